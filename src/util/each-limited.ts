/**
 * Calls fn for every item with at most `width` calls in flight, and resolves once all have
 * settled (fn handles its own errors: a rejection rejects the whole, after the rest ran).
 * With `stopAfterFailure`, items not yet started are skipped once a call has failed.
 */
export async function eachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>, opts: { stopAfterFailure?: boolean } = {}): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !(opts.stopAfterFailure && failed)) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failed) throw failed.err;
}
