// ADD unpacks a local file when it is a tar, plain or compressed, whatever its name says: moby's
// isArchivePath sniffs the compression from the magic bytes (gzip, bzip2, xz, zstd) and calls it
// an archive when Go's tar reader accepts the first header. The decompressing is the layers'
// (layers/compression.ts).
import type { Readable } from 'node:stream';
import { DecompressorMissingError, decompressStream as decompress, detectCompression, type Compression } from '../../layers/compression.js';

export type ArchiveCompression = Compression;

/** `src` decompressed as `kind` says; a decompressor that fails or is missing fails the stream. */
export function decompressStream(src: Readable, kind: ArchiveCompression): Readable {
  return decompress(src, kind, { what: 'archive' });
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
  const compression = detectCompression(head);
  if (compression === 'none') return { archive: isTarHeader(head), compression };
  const block = await firstBlock(decompressStream(open(), compression));
  return { archive: isTarHeader(block), compression };
}
