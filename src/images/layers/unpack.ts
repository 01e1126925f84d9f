// Applies one layer tar into its own directory, turning OCI whiteouts into overlayfs ones.
// The tar is hostile until proven otherwise: every path is confined lexically to the layer
// dir, every parent is checked to be a real directory (never a symlink) before anything is
// created under it, new files are created with O_EXCL so a planted symlink is never followed,
// hardlinks must point at files already inside the dir, and device nodes and fifos are dropped.
// Whiteouts name one entry of their own directory, never the directory itself or its parent,
// and deferred directory times are set only on the very directory the entry made.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { BerthError, SystemError } from '../../errors.js';
import { decompressed } from './compression.js';
import { lstatOrNull } from '../../util/lstat-or-null.js';
import { faultPoint } from '../../util/fault-point.js';

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

/** A layer whose tar is malformed in a way moby/containerd refuse (the pull/load/import fails). */
export class InvalidLayerError extends SystemError {}

/**
 * The entry a whiteout `base` (`.wh.<name>`) deletes, as a name inside its own directory.
 * containerd's rule (archive/tar.go): the target joined onto the parent must stay strictly
 * under the parent, so '', '.', '..' (`.wh.`, `.wh..`, `.wh...`) and anything with a '/' are
 * refused: `.wh...` at a layer's top would otherwise name the dir holding every layer.
 */
export function whiteoutTarget(base: string): string {
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InvalidLayerError(`invalid whiteout name ${JSON.stringify(base)} in layer: a whiteout must name an entry inside its directory`);
  }
  return name;
}

/**
 * A failure while applying an entry, told by the entry's name: Node's own messages carry the
 * host path of the layer dir, which is no business of the client that pulled or loaded it.
 */
function entryError(err: unknown, name: string): Error {
  if (err instanceof BerthError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new SystemError(`failed to unpack layer entry ${JSON.stringify(name)}: ${typeof code === 'string' ? code : 'unexpected error'}`);
}

/** A directory whose times are set once every entry is written. */
interface DeferredDirTimes {
  rel: string;
  dev: number;
  ino: number;
  mtime: Date;
}


/**
 * Walk `rel`'s components under `root`, creating missing dirs (when `create`), and refuse
 * anything that is not a real directory. Returns the absolute path.
 */
async function realDirInside(root: string, rel: string, create: boolean, known?: KnownDirs): Promise<string> {
  let cur = root;
  if (rel === '' || rel === '.') return cur;
  let sub = '';
  for (const part of rel.split('/')) {
    cur = join(cur, part);
    sub = sub === '' ? part : `${sub}/${part}`;
    if (known?.has(sub)) continue;
    const st = await lstatOrNull(cur);
    if (st === null) {
      if (!create) throw new Breakout(`layer path ${rel} does not exist inside the layer`);
      await mkdir(cur, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new Breakout(`layer path ${rel} goes through ${st.isSymbolicLink() ? 'a symlink' : 'a non-directory'}: refusing to write outside the layer`);
    }
    known?.add(sub);
  }
  return cur;
}

/**
 * The layer's paths already seen to be real directories, so each entry does not lstat every
 * component of its path again. Only this unpack writes the layer dir, so such a path stays a
 * real directory until an entry of this layer removes or replaces it, which forgets it and
 * everything under it (forget() comes before every removal).
 */
class KnownDirs {
  private readonly dirs = new Set<string>();

  has(rel: string): boolean {
    return this.dirs.has(rel);
  }

  add(rel: string): void {
    this.dirs.add(rel);
  }

  forget(rel: string): void {
    if (!this.dirs.delete(rel)) return;
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d.startsWith(prefix)) this.dirs.delete(d);
  }
}

/** Files up to this size are written with one writev; larger ones as they stream. */
const GATHER_MAX = 1 << 20;

/** Run a helper; its failure names the layer entry, not the host path it was working on. */
async function runTool(cmd: string, args: string[], rel: string): Promise<void> {
  try {
    await run(cmd, args);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new SystemError(`failed to apply layer entry ${JSON.stringify(rel)}: ${cmd} ${typeof code === 'number' ? `exited with ${code}` : `could not run (${String(code)})`}`);
  }
}

async function removeExisting(path: string): Promise<void> {
  // rm never follows a symlink: it removes the link itself.
  await rm(path, { recursive: true, force: true });
}

const isRoot = process.getuid?.() === 0;

/**
 * Whether an entry this unpack has just created needs no chown: a root daemon creates it
 * root:root, which is what most entries of an image ask for (one syscall fewer per file),
 * unless its directory is setgid (then it takes that directory's group).
 */
function ownedAlready(h: TarHeader, created: boolean, inSetgidDir: boolean): boolean {
  return created && !inSetgidDir && isRoot && (h.uid ?? 0) === 0 && (h.gid ?? 0) === 0;
}

/**
 * Whether `rel` is anywhere under a directory an entry made setgid ('' is the layer's root):
 * anywhere, as directories made there (the implicit parents too) inherit the bit.
 */
function underSetgid(setgidDirs: Set<string>, rel: string): boolean {
  if (setgidDirs.size === 0) return false;
  if (setgidDirs.has('')) return true;
  for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) if (setgidDirs.has(rel.slice(0, i))) return true;
  return false;
}

async function applyMetadata(path: string, h: TarHeader, isSymlink: boolean, created: boolean, inSetgidDir: boolean): Promise<void> {
  if (!ownedAlready(h, created, inSetgidDir)) {
    try {
      await lchown(path, h.uid ?? 0, h.gid ?? 0);
    } catch (err) {
      if (isRoot) throw err;
    }
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

/** A file's content: gathered into one writev when small, written as it streams when not. */
async function writeContent(fh: FileHandle, entry: TarEntry, size: number): Promise<void> {
  if (size > GATHER_MAX) {
    for await (const chunk of entry) await fh.write(chunk as Buffer);
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  if (chunks.length > 0) await fh.writev(chunks);
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
  // Keyed by path: a directory made again by a later entry takes the later entry's times.
  const dirTimes = new Map<string, DeferredDirTimes>();
  const known = new KnownDirs();
  const setgidDirs = new Set<string>();
  let size = 0;
  try {
    for await (const entry of extract) {
      size += await applyEntry(dir, entry, dirTimes, known, setgidDirs).catch((err: unknown) => {
        throw entryError(err, entry.header.name);
      });
      faultPoint('unpack.after-entry');
    }
    await feeding;
  } catch (err) {
    plain.destroy();
    // When the bytes themselves were bad (truncated or corrupt compression, a zstd error),
    // that is the reason, not the entry the unpack was writing when its stream broke off.
    const cause = await feeding.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (cause instanceof BerthError) throw cause;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new InvalidLayerError(`invalid layer: ${(cause as Error).message}`);
    throw err;
  }
  for (const d of [...dirTimes.values()].reverse()) await setDirTimes(dir, d);
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

/**
 * Set a directory's deferred times, unless a later entry replaced it or anything above it
 * (a symlink there would carry utimes to a host path): every component must still be a real
 * directory and the last one the very inode the entry made. Nothing else writes the layer dir
 * while it unpacks, so the check holds until lutimes.
 */
async function setDirTimes(root: string, d: DeferredDirTimes): Promise<void> {
  let path: string;
  try {
    path = await realDirInside(root, d.rel, false);
  } catch (err) {
    if (err instanceof Breakout) return;
    throw err;
  }
  const st = await lstatOrNull(path);
  if (st === null || !st.isDirectory() || st.dev !== d.dev || st.ino !== d.ino) return;
  await lutimes(path, d.mtime, d.mtime);
}

async function deferDirTimes(dirTimes: Map<string, DeferredDirTimes>, root: string, rel: string, h: TarHeader): Promise<void> {
  const st = await lstatOrNull(join(root, rel));
  if (st === null || !st.isDirectory()) return;
  dirTimes.delete(rel); // re-inserted last: set before the parents that came earlier
  dirTimes.set(rel, { rel, dev: st.dev, ino: st.ino, mtime: h.mtime ?? new Date(0) });
}

async function applyEntry(root: string, entry: TarEntry, dirTimes: Map<string, DeferredDirTimes>, known: KnownDirs, setgidDirs: Set<string>): Promise<number> {
  const h = entry.header;
  const rel = confinePath(h.name);
  if (rel === '') {
    if (h.type === 'directory') {
      if (((h.mode ?? 0) & 0o2000) !== 0) setgidDirs.add('');
      await applyMetadata(root, h, false, false, false);
      await deferDirTimes(dirTimes, root, '', h);
    }
    await drain(entry);
    return 0;
  }
  const base = posix.basename(rel);
  // Checked before anything is created: a refused layer leaves nothing to undo but its tmp dir.
  const whiteout = base.startsWith(WHITEOUT_PREFIX) && base !== WHITEOUT_OPAQUE && !base.startsWith(WHITEOUT_META_PREFIX) ? whiteoutTarget(base) : undefined;
  const parent = await realDirInside(root, posix.dirname(rel), true, known);

  if (base.startsWith(WHITEOUT_PREFIX)) {
    await drain(entry);
    if (base === WHITEOUT_OPAQUE) {
      // `parent` is a real directory of this layer (its root for a top-level marker); -h: no dereference.
      await runTool('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', parent], rel);
    } else if (whiteout !== undefined) {
      const target = join(parent, whiteout);
      known.forget(posix.join(posix.dirname(rel), whiteout).replace(/^\.\//, ''));
      await removeExisting(target);
      // overlayfs whiteout: a 0/0 character device. Node has no mknod(2).
      await runTool('mknod', ['-m', '0000', target, 'c', '0', '0'], rel);
    }
    // Other `.wh..wh.` names are aufs metadata, ignored as containerd does.
    return 0;
  }

  const target = join(parent, base);
  if (h.type !== 'directory') known.forget(rel);
  switch (h.type) {
    case 'directory': {
      const st = await lstatOrNull(target);
      // a directory already there may carry an earlier entry's owner
      const created = st === null || !st.isDirectory();
      if (created) {
        if (st !== null) await removeExisting(target);
        await mkdir(target, { mode: 0o755 });
      }
      known.add(rel);
      await drain(entry);
      if (((h.mode ?? 0) & 0o2000) !== 0) setgidDirs.add(rel);
      await applyMetadata(target, h, false, created, underSetgid(setgidDirs, rel));
      await deferDirTimes(dirTimes, root, rel, h);
      return 0;
    }
    case 'file':
    case 'contiguous-file': {
      // 'wx' = O_CREAT|O_EXCL: fails rather than following anything at target (a planted
      // symlink included), which is then removed (never followed) before a second try.
      let fh;
      try {
        fh = await open(target, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await removeExisting(target);
        fh = await open(target, 'wx', 0o600);
      }
      try {
        await writeContent(fh, entry, h.size ?? 0);
        // metadata through the open file: no path lookup can be raced
        if (!ownedAlready(h, true, underSetgid(setgidDirs, rel))) {
          try {
            await fh.chown(h.uid ?? 0, h.gid ?? 0);
          } catch (err) {
            if (isRoot) throw err;
          }
        }
        // chmod after chown: chown clears setuid/setgid bits.
        await fh.chmod((h.mode ?? 0o644) & 0o7777);
        const mtime = h.mtime ?? new Date(0);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
      return h.size ?? 0;
    }
    case 'symlink': {
      await drain(entry);
      await removeExisting(target);
      await symlink(h.linkname ?? '', target);
      await applyMetadata(target, h, true, true, underSetgid(setgidDirs, rel));
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
