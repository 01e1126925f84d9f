// The source checksum in a COPY/ADD step's cache key and history line. moby hashes each file as
// tarsum v1 does (a selection of its tar header fields, then its content) and names the result
// 'file:<hex>', a directory 'dir:' + the hash of its entries' sorted hashes, several sources
// 'multi:' + the hash of theirs in order. Ours hashes the same fields, so it changes exactly when
// Docker's would: a name, a mode, an owner, a link target or a byte of content, never an mtime
// (tarsum v1 leaves it out) and never an ignored file (it is not part of the source at all).
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 256 * 1024;

export type EntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'character-device' | 'block-device';

export interface HeaderFields {
  name: string;
  mode: number;
  type: EntryType;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

export function entryType(st: Stats): EntryType | null {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return null;
}

/** Linux's dev_t split (glibc's gnu_dev_major/minor). */
export function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return { devmajor: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), devminor: (lo & 0xff) | ((lo >>> 12) & 0xfff00) };
}

export function headerFields(name: string, st: Stats, linkname = ''): HeaderFields {
  const type = entryType(st) ?? 'file';
  const dev = type === 'character-device' || type === 'block-device' ? devNumbers(st.rdev) : { devmajor: 0, devminor: 0 };
  return { name, mode: st.mode & 0o7777, type, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, linkname, ...dev };
}

/** The hash of one entry: its header fields, then (for a file) the hash of its content. */
export function entryHash(h: HeaderFields, contentHex = ''): string {
  const fields = [h.name, h.mode, h.type, h.uid, h.gid, h.size, h.linkname, h.devmajor, h.devminor];
  return createHash('sha256').update(JSON.stringify(fields)).update('\n').update(contentHex).digest('hex');
}

/** sha256 of an open file's first `size` bytes, read in chunks (a 200 MB file is never held whole). */
export async function contentHash(fh: FileHandle, size: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let pos = 0;
  while (pos < size) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

/** moby's hashStringSlice: prefix + ':' + sha256 of the strings joined with ','. */
export function hashList(prefix: 'dir' | 'multi', hashes: string[]): string {
  return `${prefix}:${createHash('sha256').update(hashes.join(',')).digest('hex')}`;
}
