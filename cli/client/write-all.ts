// Copies a response body to an output stream, waiting for 'drain' when the stream asks to, so
// a slow reader (a pipe into another program) holds the daemon back instead of the client's
// memory filling up.
import type { Readable } from 'node:stream';
import type { OutputStream } from './context.js';

export async function copyTo(body: Readable, out: OutputStream, onChunk?: (n: number) => void): Promise<void> {
  const drains = out as OutputStream & { once?: (event: string, fn: () => void) => unknown };
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    onChunk?.(buf.length);
    if (!out.write(buf) && typeof drains.once === 'function') await new Promise<void>((resolve) => drains.once!('drain', resolve));
  }
}
