// PUT /containers/{id}/archive: a client's tar extracted into a directory of a container, as
// moby's Untar does inside its chroot: every entry's parent is resolved inside the container root
// (symlinks included), entries that climb out of the extraction dir are refused, files are
// created with O_EXCL after the old entry is removed (a planted symlink is never followed), hard
// links must point inside the extraction dir. Device nodes and fifos are refused outright: a
// client has no business creating device nodes in a container through cp.
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../errors.js';
import { resolveInRoot } from './resolve-in-root.js';
import { TarHeaderGuard } from './tar-guard.js';
import { lstatOrNull } from '../../util/lstat-or-null.js';

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

/** Extracts `src` into container dir `dir` (already resolved to exist and be a directory) under `root`. */
export async function extractInto(root: string, dir: string, src: Readable, opts: ExtractOptions): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(src, new TarHeaderGuard(), extract);
  feeding.catch(() => undefined); // awaited below; a truncated tar must not go unhandled meanwhile
  const dirTimes: { path: string; mtime: Date }[] = [];
  try {
    for await (const entry of extract) await extractEntry(root, dir, entry, opts, dirTimes);
    await feeding;
  } catch (err) {
    src.destroy();
    const fed = await feeding.then(() => undefined, (e: unknown) => e);
    // tar-stream's own words for a cut-off or garbled archive are the client's problem: a 400
    const cause = fed instanceof Error && !(err instanceof InvalidParameterError) ? fed : err;
    if (cause instanceof InvalidParameterError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/unexpected end|invalid tar|header/i.test(message)) throw new InvalidParameterError(`invalid tar archive: ${message}`);
    throw cause;
  }
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}

async function extractEntry(root: string, dir: string, entry: TarEntry, opts: ExtractOptions, dirTimes: { path: string; mtime: Date }[]): Promise<void> {
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
  const parent = await resolveInRoot(root, posix.dirname(full), { followLast: true, create: true });
  const target = join(parent, posix.basename(full));
  const existing = await lstatOrNull(target);
  const owner = (uid?: number, gid?: number) => opts.chown ?? { uid: uid ?? 0, gid: gid ?? 0 };

  if (h.type === 'directory') {
    await drain(entry);
    if (existing && !existing.isDirectory()) {
      if (opts.noOverwriteDirNonDir) throw new InvalidParameterError(`cannot overwrite non-directory "${full}" with directory "${h.name}"`);
      await rm(target, { force: true });
    }
    if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o755 });
    const o = owner(h.uid, h.gid);
    await lchown(target, o.uid, o.gid);
    await chmod(target, (h.mode ?? 0o755) & 0o7777);
    dirTimes.push({ path: target, mtime: h.mtime ?? new Date() });
    return;
  }
  if (existing?.isDirectory()) {
    if (opts.noOverwriteDirNonDir) {
      await drain(entry);
      throw new InvalidParameterError(`cannot overwrite directory "${full}" with non-directory "${h.name}"`);
    }
  }
  switch (h.type) {
    case 'file':
    case 'contiguous-file': {
      if (existing) await rm(target, { recursive: true, force: true });
      // 'wx' = O_CREAT|O_EXCL: fails rather than following anything that appeared at target
      const fh = await open(target, 'wx', 0o600);
      try {
        for await (const chunk of entry) await fh.write(chunk as Buffer);
      } finally {
        await fh.close();
      }
      break;
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
      if (existing) await rm(target, { recursive: true, force: true });
      await symlink(linkname, target);
      break;
    }
    case 'link': {
      await drain(entry);
      const srcRel = posix.normalize((h.linkname ?? '').replace(/^\/+/, ''));
      if (srcRel === '..' || srcRel.startsWith('../') || srcRel === '.') {
        throw new InvalidParameterError(`invalid archive: hard link "${h.name}" -> "${h.linkname}" points outside of "${dir}"`);
      }
      const source = await resolveInRoot(root, posix.join(dir, srcRel), { followLast: false });
      const st = await lstatOrNull(source);
      if (!st || st.isDirectory()) throw new InvalidParameterError(`invalid archive: hard link "${h.name}" -> "${h.linkname}": no such file in the archive`);
      if (source === target) return;
      if (existing) await rm(target, { recursive: true, force: true });
      await link(source, target);
      return;
    }
    default:
      await drain(entry);
      return;
  }
  const o = owner(h.uid, h.gid);
  await lchown(target, o.uid, o.gid);
  // chmod after chown: chown clears setuid/setgid bits
  if (h.type !== 'symlink') await chmod(target, (h.mode ?? 0o644) & 0o7777);
  const mtime = h.mtime ?? new Date();
  await lutimes(target, mtime, mtime);
}
