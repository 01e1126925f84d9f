// lstat that answers null for a path that is not there (also when a parent is not a directory).
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
