// Every entry under an open directory, depth first, parents before children, names sorted: each
// directory is held open while its entries are handed out, so a directory swapped for a symlink
// mid-walk is never descended into on the host's side (a `readdir(join(top, rel))` would be).
//
// The tree may be a container's, and a container can nest directories as deep as it likes
// (`cd d; mkdir d` in a loop costs it nothing). So the walk is one loop over an explicit stack,
// not generators delegating to generators (every entry then climbed through one generator per
// level: a 2,000-deep tree took 10 s of CPU, a 3,000-deep one overflowed the call stack), and
// it holds the fds of the deepest MAX_HELD levels only (one fd per level would let one tree take
// the daemon's every fd): a level left behind is reopened as `..` of the level below it on the
// way back up, and must be the very directory it was (same device and inode) or the walk stops.
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { OPEN_DIR_NOFOLLOW } from './fd-path.js';
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

/** A directory moved elsewhere in the tree while the walk was below it. */
export class TreeChangedError extends Error {
  constructor(readonly path: string) {
    super(`${path || '/'} was moved while its directory tree was walked`);
  }
}

/** Directory fds one walk holds at most, besides its top's. */
export const MAX_HELD = 32;

interface Level {
  /** null once released; reopened from the level below on the way back. */
  fh: FileHandle | null;
  names: string[];
  next: number;
  rel: string;
  dev: number;
  ino: number;
}

async function listNames(dir: FileHandle): Promise<string[]> {
  // a directory removed since we opened it lists nothing
  const names = await namesIn(dir).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.sort();
}

/** The parent of the directory open as `child`, checked to be `level`'s directory still. */
async function reopenParent(child: FileHandle, level: Level): Promise<FileHandle> {
  // '..' of an fd's directory: the kernel's own parent of that inode, wherever it is now
  const fh = await open(`/proc/self/fd/${child.fd}/..`, OPEN_DIR_NOFOLLOW);
  const st = await fh.stat().catch(async (err: unknown) => {
    await fh.close();
    throw err;
  });
  if (st.dev !== level.dev || st.ino !== level.ino) {
    await fh.close();
    throw new TreeChangedError(level.rel);
  }
  return fh;
}

/**
 * Walks `top`. `descend(entry)` says whether to walk into a directory entry (default: yes);
 * `skip(path)` leaves a path (and what is under it) out altogether.
 */
export async function* walkTree(
  top: FileHandle,
  opts: { skip?: (path: string) => boolean; descend?: (e: TreeEntry) => boolean } = {},
): AsyncGenerator<TreeEntry> {
  const topStat = await top.stat();
  const stack: Level[] = [{ fh: top, names: await listNames(top), next: 0, rel: '', dev: topStat.dev, ino: topStat.ino }];
  let held = 0; // fds of ours in the stack (the top's is the caller's)
  let lo = 1; // levels 1..lo-1 are released, lo.. are held
  try {
    while (stack.length > 0) {
      const level = stack[stack.length - 1]!;
      const dir = level.fh!;
      if (level.next >= level.names.length) {
        stack.pop();
        try {
          const p = stack.length - 1;
          if (p >= 1 && p < lo) {
            stack[p]!.fh = await reopenParent(dir, stack[p]!);
            lo = p;
            held++;
          }
        } finally {
          if (stack.length > 0) {
            level.fh = null;
            held--;
            await dir.close();
          }
        }
        continue;
      }
      const name = level.names[level.next++]!;
      const path = `${level.rel}/${name}`;
      if (opts.skip?.(path)) continue;
      const stat = await lstatAt(dir, name);
      if (!stat) continue; // gone since the listing
      const entry: TreeEntry = { dir, name, path, stat };
      yield entry;
      if (!stat.isDirectory() || opts.descend?.(entry) === false) continue;
      const sub = await openDirAt(dir, name);
      if (!sub) continue; // swapped for a non-directory meanwhile
      held++;
      let subStat: Stats;
      let names: string[];
      try {
        [subStat, names] = await Promise.all([sub.stat(), listNames(sub)]);
      } catch (err) {
        held--;
        await sub.close();
        throw err;
      }
      stack.push({ fh: sub, names, next: 0, rel: path, dev: subStat.dev, ino: subStat.ino });
      if (held > MAX_HELD) {
        // let go of the shallowest level we hold (never the top: that one is the caller's)
        const oldest = stack[lo++]!;
        const fh = oldest.fh!;
        oldest.fh = null;
        held--;
        await fh.close();
      }
    }
  } finally {
    // a walk left early (an error, the consumer stopping) closes what it holds
    for (let i = 1; i < stack.length; i++) await stack[i]!.fh?.close();
  }
}
