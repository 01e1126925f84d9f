// What a container changed, read from its overlayfs upper dir: `docker diff` and `docker commit`
// share this walk. A 0/0 character device is a whiteout (deleted); a directory marked opaque
// (trusted.overlay.opaque=y) replaced whatever the image had there; anything else in upper was
// added, or modified when a lower layer has the same path.
import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { RootDir } from '../../util/in-root/root-dir.js';
import { walkTree } from '../../util/in-root/walk-tree.js';
import { lstatOrNull } from '../../util/lstat-or-null.js';

const run = promisify(execFile);

export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface UpperEntry {
  /** Container path, absolute. */
  path: string;
  kind: ChangeKind;
  /** The open upper-dir directory holding the entry, and its name there (for a deletion: the whiteout). */
  dir: FileHandle;
  name: string;
  stat: Stats;
  /** A directory that hides everything the lower layers had below it. */
  opaque: boolean;
}

/** The opaque mark of the directory `name` in `dir`, read through the daemon's own fd of it. */
async function isOpaque(dir: FileHandle, name: string): Promise<boolean> {
  const sub = await RootDir.openChild(dir, name);
  if (!sub) return false;
  try {
    // getfattr runs as another process: it reaches our fd through our pid, and follows that
    // magic link to the very directory we hold (no -h: the link is the fd, not the tree's)
    const { stdout } = await run('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', `/proc/${process.pid}/fd/${sub.fd}`]);
    return stdout.trim() === 'y';
  } catch {
    return false;
  } finally {
    await sub.close();
  }
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * Whether an image layer has `path`. A layer never holds a path longer than PATH_MAX (unpacking
 * writes by whole paths), but a container's upper dir may (`cd d; mkdir d` in a loop): such a
 * path is simply not in the layer, not a failed diff.
 */
async function inLayer(lower: string, path: string): Promise<boolean> {
  try {
    return (await lstatOrNull(join(lower, path))) !== null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG' || code === 'ELOOP') return false;
    throw err;
  }
}

/**
 * Every entry of `upper` in depth-first order, parents before children. `lowers` are the image's
 * layer dirs (topmost first); `skip(path)` leaves out paths berth itself put there (mountpoints).
 * The container may still run: the walk holds each directory open (src/util/in-root).
 */
export async function* walkUpper(upper: string, lowers: string[], skip: (path: string) => boolean): AsyncGenerator<UpperEntry> {
  const root = await RootDir.open(upper).catch(() => null);
  if (!root) return; // no upper dir: nothing changed
  const newDirs = new Set<string>();
  try {
    for await (const e of walkTree(root.fh, { skip })) {
      if (isWhiteout(e.stat)) {
        yield { path: e.path, kind: ChangeKind.Deleted, dir: e.dir, name: e.name, stat: e.stat, opaque: false };
        continue;
      }
      // below a directory no lower layer has, no lower layer has anything: no lookups (a COPY of
      // hundreds of files into a new dir looked each one up in every layer)
      let inLower = false;
      if (!newDirs.has(posix.dirname(e.path))) {
        for (const lower of lowers) {
          if (await inLayer(lower, e.path)) {
            inLower = true;
            break;
          }
        }
      }
      if (!inLower && e.stat.isDirectory()) newDirs.add(e.path);
      // only a directory the image had can hide anything: no xattr read (a process) for new ones
      const opaque = inLower && e.stat.isDirectory() && (await isOpaque(e.dir, e.name));
      yield { path: e.path, kind: inLower ? ChangeKind.Modified : ChangeKind.Added, dir: e.dir, name: e.name, stat: e.stat, opaque };
    }
  } finally {
    await root.close();
  }
}
