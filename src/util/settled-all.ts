// Promise.all that rejects only once every part has settled: when the parts hold resources (fds
// in a rootfs), a caller's cleanup after the first failure must not race the others.

/** Resolves with every value, or rejects with the first failure once nothing is still running. */
export async function settledAll<T extends readonly unknown[]>(parts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
