// PUT /containers/{id}/archive: a client's tar extracted into a directory of a container, as
// moby's Untar does inside its chroot. The container may be running and rearranging its tree
// while we write (CVE-2018-15664), so nothing here names a host path: every entry's parent is
// looked up inside the container root and held open (src/util/in-root), the entry is created in
// that directory with O_EXCL/O_NOFOLLOW, and its owner, mode and times are set through the fd
// we created or a no-follow call on the name. Entries that climb out of the extraction dir are
// refused, hard links must point inside it, and device nodes and fifos are refused outright: a
// client has no business creating device nodes in a container through cp.
import { chmod, chown, lchown, link, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError, SystemError } from '../../errors.js';
import { CREATE_EXCL_NOFOLLOW, fdPath } from '../../util/in-root/fd-path.js';
import { lstatAt, openDirAt, removeAt } from '../../util/in-root/dir-ops.js';
import { InRootError, errnoOf, type Resolved, type RootDir } from '../../util/in-root/root-dir.js';
import { TarHeaderGuard } from '../../util/tar-guard.js';
import { faultPoint } from '../../util/fault-point.js';

type TarEntry = tar.Extract extends AsyncIterable<infer S> ? S : never;

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (moby's noOverwriteDirNonDir). */
  noOverwriteDirNonDir: boolean;
  /** Owner for everything extracted (copyUIDGID with a container user); default: the tar's. */
  chown?: { uid: number; gid: number };
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _chunk of entry) {
    // discard
  }
}

/** The parent directory of the entries being written, kept open while consecutive entries share it. */
class ParentCache {
  private path: string | null = null;
  private dir: Resolved | null = null;
  constructor(private readonly root: RootDir) {}

  async get(path: string): Promise<Resolved> {
    if (this.path === path && this.dir) return this.dir;
    await this.close();
    this.dir = await this.root.openDir(path, { create: true });
    this.path = path;
    return this.dir;
  }

  /** After a removal: the cached directory may be gone; the next entry looks its parent up again. */
  invalidate(): void {
    this.path = null;
  }

  async close(): Promise<void> {
    await this.dir?.close();
    this.dir = null;
    this.path = null;
  }
}

/** Extracts `src` into container dir `dir` (an existing directory) of `root`. */
export async function extractInto(root: RootDir, dir: string, src: Readable, opts: ExtractOptions): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(src, new TarHeaderGuard(), extract);
  feeding.catch(() => undefined); // awaited below; a truncated tar must not go unhandled meanwhile
  const dirTimes: { path: string; mtime: Date }[] = [];
  const parents = new ParentCache(root);
  try {
    for await (const entry of extract) {
      await extractEntry(root, parents, dir, entry, opts, dirTimes).catch((err: unknown) => {
        // errno failures name our /proc/self/fd paths: say which entry failed instead
        const code = errnoOf(err);
        if (!code) throw err;
        throw new SystemError(`cannot extract "${entry.header.name}" into the container: ${code}${code === 'ENOENT' || code === 'EEXIST' ? ' (the container changed the directory meanwhile)' : ''}`);
      });
      faultPoint('cp.after-entry');
    }
    await feeding;
  } catch (err) {
    src.destroy();
    const fed = await feeding.then(() => undefined, (e: unknown) => e);
    // tar-stream's own words for a cut-off or garbled archive are the client's problem: a 400
    // (a premature close is only our own stop: the first error is the one to tell)
    const fedOwn = fed instanceof Error && (fed as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE';
    const cause = fedOwn && !(err instanceof InvalidParameterError) ? fed : err;
    if (cause instanceof InvalidParameterError) throw cause;
    if (cause instanceof InRootError) throw new InvalidParameterError(`cannot extract into the container: ${cause.message}`);
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/unexpected end|invalid tar|header/i.test(message)) throw new InvalidParameterError(`invalid tar archive: ${message}`);
    throw cause;
  } finally {
    await parents.close();
  }
  // Directory times last, deepest first: writing into a directory changes its mtime. Each is
  // looked up again, so a directory swapped for a symlink since cannot lend its times elsewhere.
  for (const d of dirTimes.reverse()) {
    const at = await root.openDir(d.path).catch(() => null);
    if (!at) continue;
    try {
      await utimes(at.at, d.mtime, d.mtime).catch(() => undefined);
    } finally {
      await at.close();
    }
  }
}

async function extractEntry(
  root: RootDir,
  parents: ParentCache,
  dir: string,
  entry: TarEntry,
  opts: ExtractOptions,
  dirTimes: { path: string; mtime: Date }[],
): Promise<void> {
  const h = entry.header;
  // Absolute names are taken as relative to the extraction dir (moby cleans and strips them).
  const rel = posix.normalize(h.name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) {
    await drain(entry);
    throw new InvalidParameterError(`invalid archive: "${h.name}" is outside of "${dir}"`);
  }
  const full = posix.join(dir, rel);
  if (h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo') {
    await drain(entry);
    throw new InvalidParameterError(`invalid archive: "${h.name}" is a ${h.type}; device nodes and fifos are not copied into containers`);
  }
  if (rel === '' || rel === '.') {
    await drain(entry);
    return;
  }
  const parent = await parents.get(posix.dirname(full));
  const p = parent.dir.fh;
  const name = posix.basename(full);
  const at = fdPath(p.fd, name);
  const existing = await lstatAt(p, name);
  const owner = opts.chown ?? { uid: h.uid ?? 0, gid: h.gid ?? 0 };
  const mtime = h.mtime ?? new Date();

  if (h.type === 'directory') {
    await drain(entry);
    if (existing && !existing.isDirectory()) {
      if (opts.noOverwriteDirNonDir) throw new InvalidParameterError(`cannot overwrite non-directory "${full}" with directory "${h.name}"`);
      { await removeAt(p, name); parents.invalidate(); }
    }
    if (!existing?.isDirectory()) {
      await mkdir(at, { mode: 0o755 }).catch((err) => {
        if (errnoOf(err) !== 'EEXIST') throw err;
      });
    }
    const d = await openDirAt(p, name);
    if (!d) throw new InvalidParameterError(`cannot extract "${h.name}": "${full}" changed while it was written`);
    try {
      // through the fd's own inode: the name may be a symlink by now, the fd is not
      await chown(fdPath(d.fd), owner.uid, owner.gid);
      await chmod(fdPath(d.fd), (h.mode ?? 0o755) & 0o7777);
    } finally {
      await d.close();
    }
    dirTimes.push({ path: full, mtime });
    return;
  }
  if (existing?.isDirectory() && opts.noOverwriteDirNonDir) {
    await drain(entry);
    throw new InvalidParameterError(`cannot overwrite directory "${full}" with non-directory "${h.name}"`);
  }
  switch (h.type) {
    case 'file':
    case 'contiguous-file': {
      if (existing) { await removeAt(p, name); parents.invalidate(); }
      const fh = await open(at, CREATE_EXCL_NOFOLLOW, 0o600);
      try {
        for await (const chunk of entry) await fh.write(chunk as Buffer);
        await fh.chown(owner.uid, owner.gid);
        // chmod after chown: chown clears setuid/setgid bits
        await fh.chmod((h.mode ?? 0o644) & 0o7777);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
      return;
    }
    case 'symlink': {
      await drain(entry);
      const linkname = h.linkname ?? '';
      // moby's breakout check, lexical from the entry's directory: a relative link may not climb
      // out of the extraction dir (an absolute one is the container's own path)
      const lexical = posix.join(posix.dirname(full), linkname);
      if (!linkname.startsWith('/') && lexical !== dir && !lexical.startsWith(dir === '/' ? '/' : `${dir}/`)) {
        throw new InvalidParameterError(`invalid archive: symlink "${h.name}" -> "${linkname}" points outside of "${dir}"`);
      }
      if (existing) { await removeAt(p, name); parents.invalidate(); }
      await symlink(linkname, at);
      // lchown/lutimes never follow the last component: the link itself
      await lchown(at, owner.uid, owner.gid);
      await lutimes(at, mtime, mtime);
      return;
    }
    case 'link': {
      await drain(entry);
      const srcRel = posix.normalize((h.linkname ?? '').replace(/^\/+/, ''));
      if (srcRel === '..' || srcRel.startsWith('../') || srcRel === '.') {
        throw new InvalidParameterError(`invalid archive: hard link "${h.name}" -> "${h.linkname}" points outside of "${dir}"`);
      }
      const source = await root.resolve(posix.join(dir, srcRel), { followLast: false }).catch(() => null);
      try {
        const st = source?.name ? await lstatAt(source.dir.fh, source.name) : null;
        if (!source?.name || !st || st.isDirectory()) {
          throw new InvalidParameterError(`invalid archive: hard link "${h.name}" -> "${h.linkname}": no such file in the archive`);
        }
        const target = await lstatAt(p, name);
        if (target && target.dev === st.dev && target.ino === st.ino) return;
        if (existing) { await removeAt(p, name); parents.invalidate(); }
        // link(2) follows neither name: both are single components of directories we hold
        await link(fdPath(source.dir.fh.fd, source.name), at);
      } finally {
        await source?.close();
      }
      return;
    }
    default:
      await drain(entry);
      return;
  }
}
