// ADD unpacks a local file when it is a tar, plain or compressed, whatever its name says: moby's
// isArchivePath sniffs the compression from the magic bytes (gzip, bzip2, xz, zstd) and calls it
// an archive when Go's tar reader accepts the first header. Node has gzip; bzip2, xz and zstd
// go through the system's decompressors as child processes, streamed.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../../errors.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectArchiveCompression(head: Buffer): ArchiveCompression {
  const starts = (...bytes: number[]) => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  return 'none';
}

/** The system has no decompressor for the format: the file cannot be told apart, so ADD fails rather than guess. */
export class DecompressorMissingError extends SystemError {}

const TOOLS: Record<Exclude<ArchiveCompression, 'none' | 'gzip'>, string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** `src` decompressed as `kind` says; a decompressor that fails or is missing fails the stream. */
export function decompressStream(src: Readable, kind: ArchiveCompression): Readable {
  if (kind === 'none') return src;
  if (kind === 'gzip') {
    const gunzip = createGunzip();
    src.on('error', (err) => gunzip.destroy(err));
    return src.pipe(gunzip);
  }
  const tool = TOOLS[kind];
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const out = new PassThrough();
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    out.destroy(err);
    child.kill('SIGKILL');
  };
  src.on('error', fail);
  child.on('error', (err) => fail(new DecompressorMissingError(`cannot run ${tool} to decompress ${kind} data: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  child.stdin.on('error', () => undefined); // the tool may stop reading first (a reader that saw enough)
  src.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, sig) => {
    if (failed) return;
    if (code === 0) out.end();
    else fail(new Error(`${kind} data is corrupt (${tool} ${code === null ? `killed by ${sig}` : `exited with ${code}`})`));
  });
  // a reader that stops early (the header sniff) must not leave the child behind
  out.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    src.destroy();
  });
  return out;
}

/** Go's archive/tar: a header block is one whose checksum field matches its bytes (unsigned or signed sum). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** The first 512 bytes of `src` (fewer if it ends first); `src` is destroyed after. */
export async function firstBlock(src: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  try {
    for await (const chunk of src) {
      chunks.push(chunk as Buffer);
      len += (chunk as Buffer).length;
      if (len >= 512) break;
    }
  } catch (err) {
    // corrupt compressed data is just not an archive; a missing decompressor is our failure
    if (err instanceof DecompressorMissingError) throw err;
  } finally {
    src.destroy();
  }
  return Buffer.concat(chunks).subarray(0, 512);
}

/** Whether the bytes `open()` streams are a tar, plain or compressed, and how they are compressed. */
export async function sniffArchive(open: () => Readable): Promise<{ archive: boolean; compression: ArchiveCompression }> {
  const head = await firstBlock(open());
  const compression = detectArchiveCompression(head);
  if (compression === 'none') return { archive: isTarHeader(head), compression };
  const block = await firstBlock(decompressStream(open(), compression));
  return { archive: isTarHeader(block), compression };
}
