// Every entry under an open directory, depth first, parents before children, names sorted: each
// directory is held open while its entries are handed out, so a directory swapped for a symlink
// mid-walk is never descended into on the host's side (a `readdir(join(top, rel))` would be).
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstatAt, namesIn, openDirAt } from './dir-ops.js';
import { errnoOf } from './root-dir.js';

export interface TreeEntry {
  /** The open directory that holds the entry; valid until the walk moves on. */
  dir: FileHandle;
  name: string;
  /** Path below the walk's top, starting with '/'. */
  path: string;
  stat: Stats;
}

/**
 * Walks `top`. `descend(entry)` says whether to walk into a directory entry (default: yes);
 * `skip(path)` leaves a path (and what is under it) out altogether.
 */
export async function* walkTree(
  top: FileHandle,
  opts: { skip?: (path: string) => boolean; descend?: (e: TreeEntry) => boolean } = {},
): AsyncGenerator<TreeEntry> {
  async function* walk(dir: FileHandle, rel: string): AsyncGenerator<TreeEntry> {
    // a directory removed since we opened it lists nothing
    const names = await namesIn(dir).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return [] as string[];
      throw err;
    });
    for (const name of names.sort()) {
      const path = `${rel}/${name}`;
      if (opts.skip?.(path)) continue;
      const stat = await lstatAt(dir, name);
      if (!stat) continue; // gone since the listing
      const entry: TreeEntry = { dir, name, path, stat };
      yield entry;
      if (!stat.isDirectory() || opts.descend?.(entry) === false) continue;
      const sub = await openDirAt(dir, name);
      if (!sub) continue; // swapped for a non-directory meanwhile
      try {
        yield* walk(sub, path);
      } finally {
        await sub.close();
      }
    }
  }
  yield* walk(top, '');
}
