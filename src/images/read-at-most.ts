// Bounded reads of metadata (manifests, configs, tokens, error bodies, docker load's JSON):
// whatever a registry or an archive sends, no more than `limit` bytes are held in memory, and
// the source is closed as soon as it goes past. The limits are containers/image's iolimits,
// introduced for CVE-2020-1702.
import type { Readable } from 'node:stream';
import { SystemError } from '../errors.js';

const MiB = 1 << 20;

export const LIMITS = {
  /** distribution refuses to store larger manifests. */
  manifest: 4 * MiB,
  config: 4 * MiB,
  token: MiB,
  errorBody: MiB,
  /** docker save's manifest.json. */
  tarManifest: MiB,
} as const;

/** A body past its limit; callers may turn it into their own kind of error. */
export class SizeLimitError extends SystemError {
  override name = 'SizeLimitError';
  constructor(
    readonly what: string,
    readonly limit: number,
  ) {
    super(`${what} exceeds the maximum allowed size of ${limit} bytes`);
  }
}

type Source = Readable | Response | ReadableStream<Uint8Array> | null;

async function* chunksOf(src: Exclude<Source, null>): AsyncGenerator<Uint8Array> {
  if (src instanceof Response) {
    if (src.body !== null) yield* chunksOf(src.body);
    return;
  }
  if (src instanceof ReadableStream) {
    const reader = src.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      // An early return (limit reached) cancels the rest instead of draining it.
      await reader.cancel().catch(() => undefined);
    }
    return;
  }
  // Leaving a for-await early destroys a node stream.
  yield* src as AsyncIterable<Uint8Array>;
}

/** Read all of `src`, or fail with SizeLimitError once more than `limit` bytes have arrived. */
export async function readAtMost(src: Source, limit: number, what: string): Promise<Buffer> {
  if (src === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunksOf(src)) {
    size += chunk.length;
    if (size > limit) throw new SizeLimitError(what, limit);
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, size);
}
