// Layer tars come plain, gzip or zstd compressed, and the media type is not always honest
// (docker-archive layers are plain, import accepts either), so compression is sniffed from
// the magic bytes like moby's archive.DecompressStream.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Peek at the first bytes of `src` and return a stream of its decompressed content. */
export async function decompressed(src: Readable): Promise<Readable> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    len += chunk.length;
  }
  const head = Buffer.concat(chunks);
  const kind = detectCompression(head);
  if (kind === 'zstd') {
    src.destroy();
    // node:zlib gained zstd only in Node 22.15/23.8; berth targets Node 20.
    throw new SystemError('zstd compressed layers are not supported by this berth (Node 20 has no zstd decoder)');
  }
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  if (kind === 'none') return rest;
  const gunzip = createGunzip();
  rest.on('error', (err) => gunzip.destroy(err));
  return rest.pipe(gunzip);
}
