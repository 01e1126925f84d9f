// Where an ADDed archive's entries land, as moby's untar chrooted at the destination puts them:
// every name is confined to the destination ('..' stops at it, '/x' is dest/x), and a parent
// that is a symlink the archive made earlier is followed the way the kernel would follow it
// inside that chroot (an absolute target restarts at the destination). The extractor later
// resolves paths in the whole rootfs, so following the archive's own links here is what keeps
// `l -> /etc` then `l/passwd` at dest/etc/passwd instead of the image's /etc/passwd.
import { posix } from 'node:path';
import { InvalidParameterError } from '../../../errors.js';

const MAX_LINKS = 40;

/** Lexically clean and confine: '../../etc/x' -> 'etc/x', '/' -> ''. */
export function confineName(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

export class ArchivePaths {
  /** Symlinks the archive made so far (destination-relative path -> target). */
  private readonly links = new Map<string, string>();

  /** The entry's path below the destination, its parents resolved through the archive's links. */
  resolve(name: string): string {
    let pending = confineName(name).split('/').filter((p) => p !== '');
    let done: string[] = [];
    let hops = 0;
    // the last component is the entry itself: it replaces a link there, never follows it
    while (pending.length > 1) {
      const part = pending.shift()!;
      const target = this.links.get([...done, part].join('/'));
      if (target === undefined) {
        done.push(part);
        continue;
      }
      if (++hops > MAX_LINKS) throw new InvalidParameterError(`invalid archive: too many levels of symbolic links under ${JSON.stringify(name)}`);
      const from = target.startsWith('/') ? target : posix.join(done.join('/'), target);
      pending = [...confineName(from).split('/').filter((p) => p !== ''), ...pending];
      done = [];
    }
    return [...done, ...pending].join('/');
  }

  /** Records what the entry at `rel` (a resolved path) is now. */
  made(rel: string, symlinkTarget?: string): void {
    if (symlinkTarget === undefined) this.links.delete(rel);
    else this.links.set(rel, symlinkTarget);
  }
}
