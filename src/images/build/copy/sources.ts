// A COPY/ADD instruction's sources as moby's copier finds them (builder/dockerfile/copy.go): each
// pattern read from the context (or a --from rootfs) with every symlink followed inside that root
// (FollowSymlinkInScope), '..' above the root refused, globs matched per path element as Go's
// filepath.Match does, ignored files taken as absent, URLs downloaded for ADD. Each source gets
// its checksum here, reading every file once; the tar reads them again later.
import { posix } from 'node:path';
import type { Stats } from 'node:fs';
import { readlink, type FileHandle } from 'node:fs/promises';
import { BerthError, InvalidParameterError, NotFoundError } from '../../../errors.js';
import { fdPath } from '../../../util/in-root/fd-path.js';
import { lstatAt, openRegularAt } from '../../../util/in-root/dir-ops.js';
import { InRootError, type RootDir } from '../../../util/in-root/root-dir.js';
import { walkTree } from '../../../util/in-root/walk-tree.js';
import { Glob } from '../../../util/glob-match.js';
import type { CopyRequest } from '../types.js';
import { contentHash, entryHash, hashList, headerFields } from './checksum.js';
import { download, isUrl, UNNAMED, type Download } from './fetch-url.js';
import { walkSource } from './source-walk.js';

export type SourceInfo =
  /** A file (or a fifo/device node) at `rootRel` of the source root, copied under the name `base`. */
  | { kind: 'file'; rootRel: string; base: string; hash: string }
  /** A directory whose contents are copied. */
  | { kind: 'dir'; rootRel: string; hash: string }
  | { kind: 'url'; download: Download; base: string; hash: string };

/** moby's containsWildcards: '*', '?' or '[' not escaped by '\'. */
export function containsWildcards(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

export class SourceFinder {
  private readonly cmd: string;

  constructor(
    private readonly req: CopyRequest,
    private readonly root: RootDir,
    private readonly scratch: string,
  ) {
    this.cmd = req.isAdd ? 'ADD' : 'COPY';
  }

  private failed(message: string, ErrorClass: typeof InvalidParameterError = InvalidParameterError): Error {
    return new ErrorClass(`${this.cmd} failed: ${message}`);
  }

  /** The sources of every pattern, in order; downloads made before a failure are handed to `downloads`. */
  async find(downloads: Download[]): Promise<SourceInfo[]> {
    const infos: SourceInfo[] = [];
    for (const source of this.req.sources) {
      this.req.signal?.throwIfAborted();
      if (isUrl(source)) {
        infos.push(await this.url(source, downloads));
        continue;
      }
      // moby trims one leading separator and one leading './'
      let orig = source.startsWith('/') ? source.slice(1) : source;
      if (orig.startsWith('./')) orig = orig.slice(2);
      if (containsWildcards(orig)) infos.push(...(await this.wildcard(orig)));
      else infos.push(await this.one(orig));
    }
    if (infos.length === 0) throw this.failed('no source files were specified');
    return infos;
  }

  private async url(source: string, downloads: Download[]): Promise<SourceInfo> {
    if (!this.req.isAdd) throw this.failed("source can't be a URL for COPY");
    const dl = await download(source, this.scratch, this.req.signal, this.req.progress).catch((err: unknown) => {
      if (err instanceof BerthError) err.message = `ADD failed: ${err.message}`;
      throw err;
    });
    downloads.push(dl);
    if (dl.filename === '' && this.req.dest.endsWith('/')) throw this.failed(`cannot determine filename for source ${source}`);
    const name = dl.filename || UNNAMED;
    // moby hashes the download like a file of a lazy context: owned by the daemon, mode 0600, no mtime
    const hash = entryHash({ name, mode: 0o600, type: 'file', uid: 0, gid: 0, size: dl.size, linkname: '', devmajor: 0, devminor: 0 }, dl.contentHex);
    return { kind: 'url', download: dl, base: name, hash };
  }

  /** Every path of the root that `pattern` matches (moby's copyWithWildcards), walked no deeper than the pattern. */
  private async wildcard(pattern: string): Promise<SourceInfo[]> {
    let glob: Glob;
    try {
      glob = Glob.compile(pattern);
    } catch {
      return []; // Go's ErrBadPattern: moby ignores it, and nothing matches
    }
    const depth = pattern.split('/').length;
    const ignore = this.req.ignore;
    const matched: string[] = [];
    for await (const e of walkTree(this.root.fh, {
      skip: ignore ? (p) => ignore.ignores(p.slice(1)) && !ignore.mayIncludeUnder(p.slice(1)) : undefined,
      descend: (e) => e.path.split('/').length - 1 < depth,
    })) {
      const rel = e.path.slice(1);
      if (ignore && !this.present(ignore, rel, e.stat)) continue;
      if (glob.matches(rel)) matched.push(rel);
    }
    const infos: SourceInfo[] = [];
    for (const rel of matched) infos.push(await this.one(rel));
    return infos;
  }

  /** One source path (no wildcards): a file or a directory, symlinks followed inside the root. */
  private async one(orig: string): Promise<SourceInfo> {
    const clean = posix.normalize(orig === '' ? '.' : orig);
    if (clean === '..' || clean.startsWith('../')) throw this.failed(`forbidden path outside the build context: ${orig} ()`);
    const notFound = () =>
      this.req.from === undefined
        ? this.failed(`file not found in build context or excluded by .dockerignore: stat ${orig}: file does not exist`, NotFoundError)
        : this.failed(`stat ${orig}: file does not exist`, NotFoundError);
    let at;
    try {
      at = await this.root.resolve(clean, { followLast: true });
    } catch (err) {
      if (err instanceof InRootError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) throw notFound();
      if (err instanceof InRootError) throw this.failed(`stat ${orig}: ${err.code === 'ELOOP' ? 'too many levels of symbolic links' : err.message}`);
      throw err;
    }
    try {
      const rootRel = at.path.slice(1);
      if (at.name === null) return { kind: 'dir', rootRel, hash: await this.dirHash(at.dir.fh, rootRel, await at.dir.fh.stat()) };
      const st = await lstatAt(at.dir.fh, at.name);
      if (!st) throw notFound();
      if (this.req.ignore && !this.present(this.req.ignore, rootRel, st)) throw notFound();
      if (st.isDirectory()) {
        const dir = await this.root.openDir(at.path);
        try {
          return { kind: 'dir', rootRel, hash: await this.dirHash(dir.dir.fh, rootRel, st) };
        } finally {
          await dir.close();
        }
      }
      if (st.isSocket()) throw notFound();
      // the name the copy gets is the one asked for, not the symlink's target (moby: source.path)
      const base = posix.basename(clean);
      return { kind: 'file', rootRel, base, hash: `file:${await this.fileHash(at.dir.fh, at.name, rootRel, st)}` };
    } finally {
      await at.close();
    }
  }

  /**
   * Whether the CLI would have sent `rootRel`: not ignored, or an ignored directory that an
   * exception re-includes something under (the context then has it, holding only that).
   */
  private present(ignore: NonNullable<CopyRequest['ignore']>, rootRel: string, st: Stats): boolean {
    return !ignore.ignores(rootRel) || (st.isDirectory() && ignore.mayIncludeUnder(rootRel));
  }

  private async fileHash(dir: FileHandle, name: string, rootRel: string, st: Stats): Promise<string> {
    if (st.isSymbolicLink()) {
      return entryHash(headerFields(rootRel, st, await readlink(fdPath(dir.fd, name))));
    }
    if (!st.isFile()) return entryHash(headerFields(rootRel, st));
    const known = this.req.knownContent?.(st);
    if (known !== undefined) return entryHash(headerFields(rootRel, st), known);
    const opened = await openRegularAt(dir, name);
    if (opened === null || opened === 'notRegular') throw this.failed(`${rootRel} changed while it was read`);
    try {
      return entryHash(headerFields(rootRel, opened.stat), await contentHash(opened.fh, opened.stat.size, this.req.signal));
    } finally {
      await opened.fh.close();
    }
  }

  /** moby's walkSource: the hashes of the directory and of everything under it, sorted. */
  private async dirHash(dir: FileHandle, rootRel: string, st: Stats): Promise<string> {
    const hashes = [entryHash(headerFields(rootRel || '.', st))];
    for await (const e of walkSource(dir, rootRel, this.req.ignore)) {
      this.req.signal?.throwIfAborted();
      if (e.dir === null || e.stat.isDirectory()) hashes.push(entryHash(headerFields(e.rootRel, e.stat)));
      else hashes.push(await this.fileHash(e.dir, e.name, e.rootRel, e.stat));
    }
    return hashList('dir', hashes.sort());
  }
}
