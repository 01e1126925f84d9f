// Single-name operations inside an open directory (fd-path.ts): what openat, fstatat, unlinkat
// and friends would do. None of them follows the name when it is a symlink, and none opens a
// FIFO or a device: a hostile tree can make them fail, never reach the host or hang a worker.
import type { Stats } from 'node:fs';
import { lstat, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { OPEN_DIR_NOFOLLOW, OPEN_READ_NONBLOCK, fdPath } from './fd-path.js';
import { errnoOf, openPathAt } from './root-dir.js';

/** lstat of `name` in `dir`; null when it is not there. */
export async function lstatAt(dir: FileHandle, name: string): Promise<Stats | null> {
  try {
    return await lstat(fdPath(dir.fd, name));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/** `name` in `dir` opened as a directory (O_PATH); null when it is not there or not a directory. */
export async function openDirAt(dir: FileHandle, name: string): Promise<FileHandle | null> {
  try {
    return await open(fdPath(dir.fd, name), OPEN_DIR_NOFOLLOW);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

/** The names in an open directory. */
export async function namesIn(dir: FileHandle): Promise<string[]> {
  return readdir(fdPath(dir.fd));
}

/**
 * `name` in `dir` opened for reading, only if it is a regular file: looked at through O_PATH
 * first, so a FIFO or a device node is refused without being opened, then reopened through
 * that very inode. Null when it is not there; `notRegular` for anything else.
 */
export async function openRegularAt(dir: FileHandle, name: string): Promise<{ fh: FileHandle; stat: Stats } | null | 'notRegular'> {
  const p = await openPathAt(dir, name);
  if (p === null) return null;
  try {
    const st = await p.stat();
    if (!st.isFile()) return 'notRegular';
    const fh = await open(fdPath(p.fd), OPEN_READ_NONBLOCK);
    return { fh, stat: await fh.stat() };
  } finally {
    await p.close();
  }
}

// Directory fds one removal holds at most: a container can nest its tree deeper than the daemon
// has fds (and deeper than PATH_MAX, where node's rm gives up with ENAMETOOLONG).
const MAX_HELD_REMOVING = 16;

interface RemoveLevel {
  /** null once let go; reopened as `..` of the level below on the way back up (checked by inode). */
  fh: FileHandle | null;
  /** Its name in the level above, where rmdir removes it once it is empty. */
  name: string;
  names: string[];
  next: number;
  dev: number;
  ino: number;
}

const ignoreEnoent = (err: unknown) => {
  if (errnoOf(err) !== 'ENOENT') throw err;
};

/** Removes `name` from `dir`, a directory with everything under it, without following any link. */
export async function removeAt(dir: FileHandle, name: string): Promise<void> {
  const st = await lstatAt(dir, name);
  if (st === null) return;
  if (!st.isDirectory()) {
    await unlink(fdPath(dir.fd, name)).catch(ignoreEnoent);
    return;
  }
  const stack: RemoveLevel[] = [{ fh: dir, name: '', names: [], next: 0, dev: 0, ino: 0 }];
  let lo = 1; // levels 1..lo-1 are let go, lo.. are held (level 0 is the caller's)
  const enter = async (parent: FileHandle, child: string): Promise<boolean> => {
    const sub = await openDirAt(parent, child);
    // swapped for a non-directory meanwhile: the caller unlinks that instead
    if (sub === null) return false;
    try {
      const [names, id] = await Promise.all([namesIn(sub), sub.stat()]);
      stack.push({ fh: sub, name: child, names, next: 0, dev: id.dev, ino: id.ino });
    } catch (err) {
      await sub.close();
      if (errnoOf(err) === 'ENOENT') return true;
      throw err;
    }
    if (stack.length - lo > MAX_HELD_REMOVING) {
      const oldest = stack[lo++]!;
      const fh = oldest.fh!;
      oldest.fh = null;
      await fh.close();
    }
    return true;
  };
  try {
    if (!(await enter(dir, name))) return removeAt(dir, name);
    while (stack.length > 1) {
      const level = stack[stack.length - 1]!;
      const here = level.fh!;
      if (level.next < level.names.length) {
        const child = level.names[level.next++]!;
        const cst = await lstatAt(here, child);
        if (cst === null) continue;
        if (cst.isDirectory() && (await enter(here, child))) continue;
        await unlink(fdPath(here.fd, child)).catch(ignoreEnoent);
        continue;
      }
      stack.pop();
      try {
        const parent = stack[stack.length - 1]!;
        if (parent.fh === null) {
          const fh = await open(`${fdPath(here.fd)}/..`, OPEN_DIR_NOFOLLOW);
          const pst = await fh.stat().catch(() => null);
          if (pst === null || pst.dev !== parent.dev || pst.ino !== parent.ino) {
            await fh.close();
            throw new Error(`${parent.name} was moved while it was removed`);
          }
          parent.fh = fh;
          lo = stack.length - 1;
        }
        await rmdir(fdPath(parent.fh.fd, level.name)).catch(ignoreEnoent);
      } finally {
        await here.close();
      }
    }
  } finally {
    for (let i = 1; i < stack.length; i++) await stack[i]!.fh?.close();
  }
}

/**
 * `rm -rf` of a path the daemon chose (a container's snapshot, a volume) whose tree someone
 * else filled: whatever its depth, without following a link.
 */
export async function removeTree(path: string): Promise<void> {
  const parent = await open(dirname(path), OPEN_DIR_NOFOLLOW).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return null;
    throw err;
  });
  if (parent === null) return;
  try {
    await removeAt(parent, basename(path));
  } finally {
    await parent.close();
  }
}
