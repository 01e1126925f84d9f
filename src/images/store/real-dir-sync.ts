// Startup repair of the directories the images layer owns under the data-root. Something that
// is not a real directory where one belongs (a device node a bad layer left, a stray file, a
// symlink that would carry writes out of the data-root) must not keep the daemon from starting:
// it is logged and removed, and the directory made again. Only non-directories are removed, so
// nothing that might hold data goes without an admin's word.
import { lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';

export type DamageLog = (fields: { path: string; found: string }, msg: string) => void;

export function fileTypeOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isFile()) return 'file';
  return 'directory';
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Remove `path` if it exists and is not a real directory (a symlink to one counts as not);
 * returns true when something was removed.
 */
export function dropNonDirSync(path: string, log: DamageLog): boolean {
  const st = lstatOrUndefined(path);
  if (st === undefined || st.isDirectory()) return false;
  log({ path, found: fileTypeOf(st) }, 'removing a non-directory where the data-root needs a directory');
  unlinkSync(path); // unlink never follows a symlink
  return true;
}

/** Make `path` a real directory, removing a non-directory in its way. The parent must be one. */
export function ensureRealDirSync(path: string, log: DamageLog, mode = 0o755): void {
  dropNonDirSync(path, log);
  if (lstatOrUndefined(path) === undefined) mkdirSync(path, { mode });
}
