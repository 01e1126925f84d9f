// Resolve a path inside a container's root filesystem the way the container would see it,
// so that symlinks planted in an image can never point berth at a host file.
import { lstat, readlink } from 'node:fs/promises';
import { SystemError } from '../errors.js';

const MAX_SYMLINKS = 255;

/**
 * Returns the host path of `path` as seen from inside `root`: every component is resolved
 * inside the root, absolute link targets restart at the root and `..` stops at the root.
 * A path that does not exist is returned with its missing tail appended unresolved.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const base = root.replace(/\/+$/, '');
  const resolved: string[] = [];
  const pending = path.split('/');
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `${base}/${[...resolved, part].join('/')}`;
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        return [candidate, ...pending.filter((p) => p && p !== '.')].join('/');
      }
      throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new SystemError(`too many levels of symbolic links resolving ${path} in ${root}`);
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return resolved.length ? `${base}/${resolved.join('/')}` : base || '/';
}
