// The names of a loaded archive, as moby's tarexport reads them: it untars the archive into a
// temp dir and opens manifest.json and every path the manifest names with
// symlink.FollowSymlinkInScope, so a symlink (docker save before 25 links a layer it already
// wrote: `<id>/layer.tar -> ../<other>/layer.tar`) leads to another entry of the archive and
// never out of it: an absolute target or a `..` is taken from the archive's root. berth keeps
// no extracted tree: regular files are blobs in the content store, hard links name the blob of
// their target, and symlinks are resolved here by the same rule, over the entries' names.
import { InvalidParameterError } from '../../errors.js';
import { confinePath } from '../layers/unpack.js';

/** Linux's limit on links followed in one lookup (filepath-securejoin uses the same). */
const MAX_LINKS = 255;

export class ArchiveEntries {
  /** Regular files (and hard links to them): archive path -> content digest. */
  private readonly files = new Map<string, string>();
  /** Symlinks: archive path -> target as written in the archive. */
  private readonly symlinks = new Map<string, string>();

  /** A regular file; a later entry of the same name replaces an earlier one, as an untar would. */
  addFile(name: string, digest: string): void {
    const path = confinePath(name);
    this.symlinks.delete(path);
    this.files.set(path, digest);
  }

  addSymlink(name: string, target: string): void {
    const path = confinePath(name);
    this.files.delete(path);
    this.symlinks.set(path, target);
  }

  /** A hard link names the same content as its (earlier) target; one to nothing is dropped, as moby's untar fails it. */
  addHardLink(name: string, target: string): void {
    const digest = this.files.get(confinePath(target));
    if (digest !== undefined) this.addFile(name, digest);
  }

  /** The digest of the file `name` leads to, following symlinks within the archive; undefined when none. */
  get(name: string): string | undefined {
    return this.files.get(this.resolve(name));
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** FollowSymlinkInScope over the entry names: every symlink on the way (the last one too) followed, `..` never above the root. */
  private resolve(name: string): string {
    const resolved: string[] = [];
    const pending = name.split('/').reverse();
    let links = 0;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const path = [...resolved, part].join('/');
      const target = this.symlinks.get(path);
      if (target === undefined) {
        resolved.push(part);
        continue;
      }
      if (++links > MAX_LINKS) throw new InvalidParameterError(`invalid archive: too many symlinks resolving ${name}`);
      if (target.startsWith('/')) resolved.length = 0;
      pending.push(...target.split('/').reverse());
    }
    return resolved.join('/');
  }
}
