// Applies one layer tar into its own directory, turning OCI whiteouts into overlayfs ones.
// The tar is hostile until proven otherwise: every path is confined lexically to the layer
// dir, every parent is checked to be a real directory (never a symlink) before anything is
// created under it, new files are created with O_EXCL so a planted symlink is never followed,
// hardlinks must point at files already inside the dir, and device nodes and fifos are dropped.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { SystemError } from '../errors.js';
import { decompressed } from './compression.js';
import { lstatOrNull } from '../util/lstat-or-null.js';

const run = promisify(execFile);

type TarHeader = tar.Header;
type TarEntry = tar.Extract extends AsyncIterable<infer S> ? S : never;

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';

export interface ApplyResult {
  /** sha256 of the uncompressed tar: the layer's diffID. */
  diffId: string;
  /** Bytes of regular file content written. */
  size: number;
}

/** Lexically clean a tar path and confine it under the root: '../../etc/x' -> 'etc/x', '/' -> ''. */
export function confinePath(name: string): string {
  return posix.normalize('/' + name).replace(/^\/+/, '').replace(/\/+$/, '');
}

class Breakout extends SystemError {}


/**
 * Walk `rel`'s components under `root`, creating missing dirs (when `create`), and refuse
 * anything that is not a real directory. Returns the absolute path.
 */
async function realDirInside(root: string, rel: string, create: boolean): Promise<string> {
  let cur = root;
  if (rel === '' || rel === '.') return cur;
  for (const part of rel.split('/')) {
    cur = join(cur, part);
    const st = await lstatOrNull(cur);
    if (st === null) {
      if (!create) throw new Breakout(`layer path ${rel} does not exist inside the layer`);
      await mkdir(cur, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new Breakout(`layer path ${rel} goes through ${st.isSymbolicLink() ? 'a symlink' : 'a non-directory'}: refusing to write outside the layer`);
    }
  }
  return cur;
}

async function removeExisting(path: string): Promise<void> {
  // rm never follows a symlink: it removes the link itself.
  await rm(path, { recursive: true, force: true });
}

const isRoot = process.getuid?.() === 0;

async function applyMetadata(path: string, h: TarHeader, isSymlink: boolean): Promise<void> {
  try {
    await lchown(path, h.uid ?? 0, h.gid ?? 0);
  } catch (err) {
    if (isRoot) throw err;
  }
  // chmod after chown: chown clears setuid/setgid bits.
  if (!isSymlink) await chmod(path, (h.mode ?? 0o644) & 0o7777);
  const mtime = h.mtime ?? new Date(0);
  await lutimes(path, mtime, mtime);
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _chunk of entry) {
    // discard
  }
}

/** Apply the (possibly compressed) layer tar `src` into the existing empty dir `dir`. */
export async function applyLayer(src: Readable, dir: string): Promise<ApplyResult> {
  const plain = await decompressed(src);
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const feeding = pipeline(plain, hasher, extract);
  feeding.catch(() => undefined); // awaited below; a truncated tar must not go unhandled meanwhile
  // Directory mtimes change as children are written: set them last, deepest first.
  const dirTimes: { path: string; mtime: Date }[] = [];
  let size = 0;
  try {
    for await (const entry of extract) {
      size += await applyEntry(dir, entry, dirTimes);
    }
    await feeding;
  } catch (err) {
    plain.destroy();
    await feeding.catch(() => undefined);
    throw err;
  }
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime);
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

async function applyEntry(root: string, entry: TarEntry, dirTimes: { path: string; mtime: Date }[]): Promise<number> {
  const h = entry.header;
  const rel = confinePath(h.name);
  if (rel === '') {
    if (h.type === 'directory') {
      await applyMetadata(root, h, false);
      dirTimes.push({ path: root, mtime: h.mtime ?? new Date(0) });
    }
    await drain(entry);
    return 0;
  }
  const base = posix.basename(rel);
  const parent = await realDirInside(root, posix.dirname(rel), true);

  if (base.startsWith(WHITEOUT_PREFIX)) {
    await drain(entry);
    if (base === WHITEOUT_OPAQUE) {
      await run('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', parent]);
    } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
      const target = join(parent, base.slice(WHITEOUT_PREFIX.length));
      await removeExisting(target);
      // overlayfs whiteout: a 0/0 character device. Node has no mknod(2).
      await run('mknod', ['-m', '0000', target, 'c', '0', '0']);
    }
    return 0;
  }

  const target = join(parent, base);
  switch (h.type) {
    case 'directory': {
      const st = await lstatOrNull(target);
      if (st === null || !st.isDirectory()) {
        if (st !== null) await removeExisting(target);
        await mkdir(target, { mode: 0o755 });
      }
      await drain(entry);
      await applyMetadata(target, h, false);
      dirTimes.push({ path: target, mtime: h.mtime ?? new Date(0) });
      return 0;
    }
    case 'file':
    case 'contiguous-file': {
      await removeExisting(target);
      // 'wx' = O_CREAT|O_EXCL: fails rather than following anything that appeared at target.
      const fh = await open(target, 'wx', 0o600);
      try {
        for await (const chunk of entry) await fh.write(chunk as Buffer);
      } finally {
        await fh.close();
      }
      await applyMetadata(target, h, false);
      return h.size ?? 0;
    }
    case 'symlink': {
      await drain(entry);
      await removeExisting(target);
      await symlink(h.linkname ?? '', target);
      await applyMetadata(target, h, true);
      return 0;
    }
    case 'link': {
      await drain(entry);
      const srcRel = confinePath(h.linkname ?? '');
      if (srcRel === '') throw new Breakout(`hardlink ${h.name} points at the layer root`);
      const srcParent = await realDirInside(root, posix.dirname(srcRel), false);
      const source = join(srcParent, posix.basename(srcRel));
      const st = await lstatOrNull(source);
      if (st === null || st.isDirectory()) {
        throw new Breakout(`hardlink ${h.name} -> ${h.linkname}: target is not a file inside the layer`);
      }
      if (source === target) return 0;
      await removeExisting(target);
      await link(source, target);
      return 0;
    }
    default:
      // Device nodes, fifos and unknown types have no place in an image layer.
      await drain(entry);
      return 0;
  }
}
