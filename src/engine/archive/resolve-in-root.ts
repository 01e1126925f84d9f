// Resolves a path the way the container would see it: every symlink, absolute or relative, is
// followed inside `root`, and `..` never climbs above it (moby's symlink.FollowSymlinkInScope).
// The host's own tree is never reached, however the container's links are laid out.
import { mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../../errors.js';
import { lstatOrNull } from '../../util/lstat-or-null.js';

// Linux gives up after 40 links in one lookup (MAXSYMLINKS).
const MAX_LINKS = 40;

export interface ResolveOptions {
  /** Follow a symlink in the last component too (false: the link itself, as lstat). */
  followLast: boolean;
  /** Create missing directories along the way (the last component included). */
  create?: boolean;
}


/** The host path of container path `path` under `root` (which must not end with '/'). */
export async function resolveInRoot(root: string, path: string, opts: ResolveOptions): Promise<string> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    const last = pending.length === 0;
    const st = await lstatOrNull(host);
    if (st?.isSymbolicLink() && (!last || opts.followLast)) {
      if (++links > MAX_LINKS) throw new InvalidParameterError(`${path}: too many levels of symbolic links`);
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    if (!st && opts.create) await mkdir(host, { mode: 0o755 });
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** `host` as a path inside the container (`/` for root itself). */
export function containerPathOf(root: string, host: string): string {
  return host === root ? '/' : host.slice(root.length);
}
