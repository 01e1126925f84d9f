// The one decompressor of layers, build contexts and ADD's archives (layers/compression.ts):
// told apart by magic bytes as moby's DecompressStream, Debian's tools for bzip2/xz/zstd, corrupt
// data named by the tool's reason in the caller's words, a missing tool its own error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { InvalidParameterError, SystemError } from '../../src/errors.js';
import { DecompressorMissingError, decompressed, decompressStream, detectCompression } from '../../src/images/layers/compression.js';

const plain = Buffer.from('layer bytes '.repeat(5000));
const tool = (bin: string, input: Buffer) => execFileSync(bin, ['-c'], { input });
const FORMS: [string, Buffer][] = [
  ['none', plain],
  ['gzip', gzipSync(plain)],
  ['bzip2', tool('bzip2', plain)],
  ['xz', tool('xz', plain)],
  ['zstd', tool('zstd', plain)],
];

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('each format is told by its magic bytes and decompresses to the same bytes, in one-byte chunks too', async () => {
  for (const [kind, body] of FORMS) {
    assert.equal(detectCompression(body), kind);
    assert.ok((await collect(await decompressed(Readable.from([body])))).equals(plain), kind);
    // the magic split over chunks: the peek reads on until it has enough
    const bytes = [...body.subarray(0, 8)].map((b) => Buffer.from([b]));
    assert.ok((await collect(await decompressed(Readable.from([...bytes, body.subarray(8)])))).equals(plain), `${kind} in small chunks`);
  }
  assert.equal((await collect(await decompressed(Readable.from([])))).length, 0);
});

test("corrupt data is the tool's reason in the caller's words and error type", async () => {
  const bad = Buffer.from(tool('bzip2', plain));
  for (let i = 20; i < 60; i++) bad[i] ^= 0xff;
  await assert.rejects(collect(await decompressed(Readable.from([bad]))), (err: Error) => err instanceof SystemError && /^invalid bzip2 layer: ./.test(err.message));
  await assert.rejects(
    collect(await decompressed(Readable.from([bad]), { what: 'build context', BadData: InvalidParameterError })),
    (err: Error) => err instanceof InvalidParameterError && /^invalid bzip2 build context: ./.test(err.message),
  );
  const truncated = tool('xz', plain).subarray(0, 100);
  await assert.rejects(collect(decompressStream(Readable.from([truncated]), 'xz', { what: 'archive' })), { message: 'invalid xz archive: Unexpected end of input' });
});

test('a missing tool is DecompressorMissingError naming it', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(collect(decompressStream(Readable.from([FORMS[2]![1]]), 'bzip2')), (err: Error) => err instanceof DecompressorMissingError && err.message === 'cannot run bzip2 to decompress bzip2 data: ENOENT');
  } finally {
    process.env.PATH = path;
  }
});
