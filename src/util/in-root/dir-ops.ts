// Single-name operations inside an open directory (fd-path.ts): what openat, fstatat, unlinkat
// and friends would do. None of them follows the name when it is a symlink, and none opens a
// FIFO or a device: a hostile tree can make them fail, never reach the host or hang a worker.
import type { Stats } from 'node:fs';
import { lstat, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
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

/** Removes `name` from `dir`, a directory with everything under it, without following any link. */
export async function removeAt(dir: FileHandle, name: string): Promise<void> {
  const st = await lstatAt(dir, name);
  if (st === null) return;
  if (!st.isDirectory()) {
    await unlink(fdPath(dir.fd, name)).catch((err) => {
      if (errnoOf(err) !== 'ENOENT') throw err;
    });
    return;
  }
  const sub = await openDirAt(dir, name);
  if (sub === null) {
    // swapped for a non-directory meanwhile: that one goes instead
    return removeAt(dir, name);
  }
  try {
    for (const child of await namesIn(sub)) await removeAt(sub, child);
  } finally {
    await sub.close();
  }
  await rmdir(fdPath(dir.fd, name)).catch((err) => {
    if (errnoOf(err) !== 'ENOENT') throw err;
  });
}
