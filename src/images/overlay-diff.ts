// What a container changed, read from its overlayfs upper dir: `docker diff` and `docker commit`
// share this walk. A 0/0 character device is a whiteout (deleted); a directory marked opaque
// (trusted.overlay.opaque=y) replaced whatever the image had there; anything else in upper was
// added, or modified when a lower layer has the same path.
import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lstatOrNull } from '../util/lstat-or-null.js';

const run = promisify(execFile);

export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface UpperEntry {
  /** Container path, absolute. */
  path: string;
  kind: ChangeKind;
  /** Host path in the upper dir (for a deletion: the whiteout). */
  host: string;
  stat: Stats;
  /** A directory that hides everything the lower layers had below it. */
  opaque: boolean;
}


async function isOpaque(dir: string): Promise<boolean> {
  try {
    const { stdout } = await run('getfattr', ['-h', '--only-values', '-n', 'trusted.overlay.opaque', dir]);
    return stdout.trim() === 'y';
  } catch {
    return false;
  }
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * Every entry of `upper` in depth-first order, parents before children. `lowers` are the image's
 * layer dirs (topmost first); `skip(path)` leaves out paths berth itself put there (mountpoints).
 */
export async function* walkUpper(upper: string, lowers: string[], skip: (path: string) => boolean): AsyncGenerator<UpperEntry> {
  async function* walk(rel: string): AsyncGenerator<UpperEntry> {
    const names = (await readdir(join(upper, rel)).catch(() => [] as string[])).sort();
    for (const name of names) {
      const path = `${rel}/${name}`;
      if (skip(path)) continue;
      const host = join(upper, path);
      const st = await lstatOrNull(host);
      if (!st) continue;
      if (isWhiteout(st)) {
        yield { path, kind: ChangeKind.Deleted, host, stat: st, opaque: false };
        continue;
      }
      const opaque = st.isDirectory() && (await isOpaque(host));
      let inLower = false;
      for (const lower of lowers) {
        if (await lstatOrNull(join(lower, path))) {
          inLower = true;
          break;
        }
      }
      yield { path, kind: inLower ? ChangeKind.Modified : ChangeKind.Added, host, stat: st, opaque };
      if (st.isDirectory()) yield* walk(path);
    }
  }
  yield* walk('');
}
