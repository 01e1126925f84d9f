// Waiting out a slow client: what every loop that writes a stream of its own must do.
import type { Writable } from 'node:stream';

/** Resolves once `stream` drained its queue, or is gone (then writing further is moot). */
export function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
