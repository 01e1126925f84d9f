// Where a COPY's destination lands in the step's rootfs, looked up the way moby's
// FollowSymlinkInScope resolves it (every symlink followed inside the rootfs, the last one too):
// the real path, whether something is there, and which directories above it do not exist yet
// (the copy creates them: moby's MkdirAll, owned by the --chown user for a file, by root for a
// directory's parents). Only looked at, never changed: the extractor writes later.
import { posix } from 'node:path';
import { InvalidParameterError } from '../../../errors.js';
import { lstatAt } from '../../../util/in-root/dir-ops.js';
import { InRootError, type RootDir } from '../../../util/in-root/root-dir.js';

export interface DestLook {
  /** The destination's real absolute path (symlinks resolved in the rootfs). */
  real: string;
  kind: 'dir' | 'other' | null;
  /** Missing directories above `real`, top down (absolute). */
  missing: string[];
}

/** moby's normalizeDest: a relative dest is under WORKDIR; a trailing '/' is kept (it means "a directory"). */
export function normalizeDest(workdir: string, dest: string): string {
  const endsInSlash = dest.endsWith('/');
  let abs = dest.startsWith('/') ? posix.normalize(dest) : posix.join('/', workdir || '/', dest);
  if (abs !== '/') abs = abs.replace(/\/+$/, '');
  return endsInSlash && abs !== '/' ? `${abs}/` : abs;
}

/**
 * Looks `path` (absolute, normalized, no trailing '/') up in `root`. `made` holds directories an
 * earlier source of the same COPY creates, which count as there. Without a root nothing exists
 * but '/' and `made`.
 */
export async function lookupDest(root: RootDir | undefined, path: string, made: ReadonlySet<string>): Promise<DestLook> {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { real: '/', kind: 'dir', missing: [] };
  const missing: string[] = [];
  let cur = '/';
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const cand = posix.join(cur, parts[i]!);
    let real = cand;
    let kind: DestLook['kind'] = null;
    if (made.has(cand)) kind = 'dir';
    else if (root && missing.length === 0) ({ real, kind } = await lookOne(root, cand));
    if (last) return { real, kind, missing };
    if (kind === 'other') throw new InvalidParameterError(`mkdir ${real}: not a directory`);
    if (kind === null) missing.push(real);
    cur = real;
  }
  throw new Error('unreachable');
}

/** One more component below a real directory: followed if it is a symlink. */
async function lookOne(root: RootDir, path: string): Promise<{ real: string; kind: DestLook['kind'] }> {
  let at;
  try {
    at = await root.resolve(path, { followLast: true });
  } catch (err) {
    // a symlink whose target lies under a missing directory (a dangling link to a missing
    // file is fine: the lookup ends at that name)
    if (err instanceof InRootError) throw new InvalidParameterError(`cannot look up ${path} in the image: ${err.message}`);
    throw err;
  }
  try {
    if (at.name === null) return { real: at.path, kind: 'dir' };
    const st = await lstatAt(at.dir.fh, at.name);
    return { real: at.path, kind: st === null ? null : st.isDirectory() ? 'dir' : 'other' };
  } finally {
    await at.close();
  }
}
