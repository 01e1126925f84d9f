// setTimeout for any delay: Node clamps delays above 2^31-1 ms (24.8 days) to 1 ms, which made
// `docker events --until 2030-01-01` end at once. Longer delays are waited out in steps.

const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `fn` once `ms` have passed; returns the cancel function. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout;
  const deadline = Date.now() + Math.max(0, ms);
  const arm = () => {
    const left = deadline - Date.now();
    timer = left > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}
