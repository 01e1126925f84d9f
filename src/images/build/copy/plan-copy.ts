// COPY and ADD for the classic builder: the sources found and checksummed (sources.ts), then one
// tar whose entries carry their final paths in the step's rootfs, owners and modes, laid out as
// moby's performCopyForInfo lays each source out:
//   - a file goes to dest, or into it when dest ends in '/' or is a directory there; missing
//     directories above it are made 0755 and owned like the file (MkdirAllAndChownNew);
//   - a directory's contents go into dest; dest, when new, is 0755 and owned like the files, the
//     directories above it root's; an existing dest keeps its owner and mode;
//   - ADD of a local tar (plain, gzip, bzip2, xz, zstd) is unpacked into dest with the archive's
//     owners and modes (moby's untar, chrooted at dest: '..' stays inside dest, and the
//     archive's own symlinks lead within dest: archive-paths.ts);
//   - ADD of a URL is a file: mode 0600, mtime from Last-Modified, never unpacked.
// Owners are root's unless --chown says otherwise (never the context's), except that COPY --from
// without --chown keeps the stage's owners (moby's preserveOwnership; the directories it makes
// are root's); modes and mtimes are the source's; symlinks are copied as symlinks, hard links
// inside a directory stay linked.
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { open, readlink, rm, type FileHandle } from 'node:fs/promises';
import { createReadStream, type Stats } from 'node:fs';
import { InvalidParameterError } from '../../../errors.js';
import { fdPath } from '../../../util/in-root/fd-path.js';
import { lstatAt, openRegularAt } from '../../../util/in-root/dir-ops.js';
import { RootDir } from '../../../util/in-root/root-dir.js';
import type { CopyPlan, CopyRequest } from '../types.js';
import { decompressStream, sniffArchive, type ArchiveCompression } from './archive-detect.js';
import { devNumbers, entryType, hashList } from './checksum.js';
import { lookupDest, normalizeDest } from './dest-lookup.js';
import type { Download } from './fetch-url.js';
import { SourceFinder, type SourceInfo } from './sources.js';
import { walkSource } from './source-walk.js';
import { TarWriter, type OutHeader } from '../../../util/tar-writer.js';
import { unpackInto } from './archive-unpack.js';

interface Owner {
  uid: number;
  gid: number;
}

/** One source's part of the tar, decided before any byte is written. */
type Job =
  | { kind: 'mkdir'; path: string; owner: Owner }
  | { kind: 'file'; info: Extract<SourceInfo, { kind: 'file' }>; target: string }
  | { kind: 'url'; info: Extract<SourceInfo, { kind: 'url' }>; target: string }
  | { kind: 'dir'; info: Extract<SourceInfo, { kind: 'dir' }>; target: string }
  | { kind: 'archive'; info: Extract<SourceInfo, { kind: 'file' }>; target: string; compression: ArchiveCompression };

const ROOT: Owner = { uid: 0, gid: 0 };

/** The owner every copied entry gets; null: each keeps its own (COPY --from without --chown). */
function copyOwner(req: CopyRequest): Owner | null {
  if (req.chown) return req.chown;
  return req.from !== undefined ? null : ROOT;
}

/** A container path as a tar name: relative to '/' ('' for the root itself). */
function tarName(path: string): string {
  return path.replace(/^\/+/, '');
}

export async function planCopy(req: CopyRequest): Promise<CopyPlan> {
  const cmd = req.isAdd ? 'ADD' : 'COPY';
  const downloads: Download[] = [];
  const release = async () => {
    for (const d of downloads.splice(0)) await rm(d.dir, { recursive: true, force: true });
  };
  let infos: SourceInfo[];
  let archives: Map<SourceInfo, ArchiveCompression>;
  try {
    infos = await RootDir.with(req.sourceRoot, (root) => new SourceFinder(req, root, req.scratchDir ?? tmpdir()).find(downloads));
    if (infos.length > 1 && !req.dest.endsWith('/')) {
      throw new InvalidParameterError(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`);
    }
    archives = req.isAdd ? await sniffArchives(req.sourceRoot, infos) : new Map();
  } catch (err) {
    await release();
    throw err;
  }
  const checksum = infos.length === 1 ? infos[0]!.hash : hashList('multi', infos.map((i) => i.hash));
  // moby's commentStr, whose --chown has no space before the checksum
  const comment = `${cmd} ${req.chownFlag ? `--chown=${req.chownFlag}` : ''}${checksum} in ${req.dest} `;
  const shell = req.shell ?? ['/bin/sh', '-c'];
  return {
    checksum,
    comment,
    createdBy: `${shell.join(' ')} #(nop) ${comment}`,
    release,
    tar: async (dest?: RootDir) => {
      const jobs = await layout(req, infos, archives, dest);
      const out = new TarWriter();
      void (async () => {
        const src = await RootDir.open(req.sourceRoot);
        try {
          for (const job of jobs) await writeJob(req, src, out, job);
          out.finish();
        } finally {
          await src.close();
        }
      })().catch((err: unknown) => out.fail(err));
      return out.stream;
    },
  };
}

/** Which local ADD sources are tar archives (moby's isArchivePath), and how they are compressed. */
async function sniffArchives(sourceRoot: string, infos: SourceInfo[]): Promise<Map<SourceInfo, ArchiveCompression>> {
  const found = new Map<SourceInfo, ArchiveCompression>();
  await RootDir.with(sourceRoot, async (root) => {
    for (const info of infos) {
      if (info.kind !== 'file') continue;
      const fh = await openSourceFile(root, info.rootRel);
      if (!fh) continue;
      try {
        const { archive, compression } = await sniffArchive(() => createReadStream(fdPath(fh.fd)));
        if (archive) found.set(info, compression);
      } finally {
        await fh.close();
      }
    }
  });
  return found;
}

/** The regular file at `rootRel` of `root`, open for reading; null when it is something else now. */
async function openSourceFile(root: RootDir, rootRel: string): Promise<FileHandle | null> {
  const at = await root.resolve(rootRel, { followLast: true });
  try {
    if (at.name === null) return null;
    const opened = await openRegularAt(at.dir.fh, at.name);
    return opened === null || opened === 'notRegular' ? null : opened.fh;
  } finally {
    await at.close();
  }
}

/** Where each source goes, given what the rootfs has (moby's performCopyForInfo, source by source). */
async function layout(req: CopyRequest, infos: SourceInfo[], archives: Map<SourceInfo, ArchiveCompression>, dest?: RootDir): Promise<Job[]> {
  // without an identity (--from, no --chown) moby's MkdirAll makes root's directories
  const owner = copyOwner(req) ?? ROOT;
  const destPath = normalizeDest(req.workdir, req.dest);
  const endsInSlash = destPath.endsWith('/') && destPath !== '/';
  const bare = endsInSlash ? destPath.slice(0, -1) : destPath;
  const made = new Set<string>();
  const jobs: Job[] = [];
  const mkdirs = (paths: string[], by: Owner) => {
    for (const path of paths) {
      if (made.has(path)) continue;
      made.add(path);
      jobs.push({ kind: 'mkdir', path, owner: by });
    }
  };
  for (const info of infos) {
    const look = await lookupDest(dest, bare, made);
    const compression = archives.get(info);
    if (info.kind === 'dir' || compression !== undefined) {
      if (look.kind === 'other') throw new InvalidParameterError(`cannot copy to non-directory: ${look.real}`);
      // the untar and the directory copy make dest's parents as root; a new dest of a directory
      // copy is then chowned like its contents (fixPermissions), an archive's is not
      mkdirs(look.missing, ROOT);
      if (look.kind === null) mkdirs([look.real], info.kind === 'dir' ? owner : ROOT);
      if (info.kind === 'dir') jobs.push({ kind: 'dir', info, target: look.real });
      else jobs.push({ kind: 'archive', info: info as Extract<SourceInfo, { kind: 'file' }>, target: look.real, compression: compression! });
      continue;
    }
    let target = look.real;
    if (endsInSlash || look.kind === 'dir') {
      if (look.kind === 'other') throw new InvalidParameterError(`mkdir ${look.real}: not a directory`);
      mkdirs([...look.missing, ...(look.kind === null ? [look.real] : [])], owner);
      target = posix.join(look.real, info.base);
    } else {
      mkdirs(look.missing, owner);
    }
    jobs.push(info.kind === 'url' ? { kind: 'url', info, target } : { kind: 'file', info, target });
  }
  return jobs;
}

async function writeJob(req: CopyRequest, src: RootDir, out: TarWriter, job: Job): Promise<void> {
  const owner = copyOwner(req);
  switch (job.kind) {
    case 'mkdir':
      return out.add({ name: `${tarName(job.path)}/`, type: 'directory', mode: 0o755, uid: job.owner.uid, gid: job.owner.gid, mtime: new Date() });
    case 'url': {
      const { download } = job.info;
      const fh = await open(download.path, 'r');
      try {
        return await out.file({ name: tarName(job.target), mode: req.chmod ?? 0o600, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtime: download.mtime }, fh, download.size);
      } finally {
        await fh.close();
      }
    }
    case 'file': {
      const at = await src.resolve(job.info.rootRel, { followLast: true });
      try {
        if (at.name === null) throw new InvalidParameterError(`${job.info.rootRel} changed while it was copied`);
        const st = await lstatAt(at.dir.fh, at.name);
        if (!st) throw new InvalidParameterError(`${job.info.rootRel} vanished while it was copied`);
        await writeNode(out, at.dir.fh, at.name, st, tarName(job.target), owner, req.chmod, new Map());
      } finally {
        await at.close();
      }
      return;
    }
    case 'dir': {
      const dir = await src.openDir(job.info.rootRel);
      const links = new Map<string, string>();
      try {
        for await (const e of walkSource(dir.dir.fh, job.info.rootRel, req.ignore)) {
          req.signal?.throwIfAborted();
          const name = tarName(posix.join(job.target, e.rel));
          if (e.dir === null) await out.add({ name: `${name}/`, type: 'directory', mode: req.chmod ?? e.stat.mode & 0o7777, uid: owner?.uid ?? e.stat.uid, gid: owner?.gid ?? e.stat.gid, mtime: e.stat.mtime });
          else await writeNode(out, e.dir, e.name, e.stat, name, owner, req.chmod, links);
        }
      } finally {
        await dir.close();
      }
      return;
    }
    case 'archive': {
      const fh = await openSourceFile(src, job.info.rootRel);
      if (!fh) throw new InvalidParameterError(`${job.info.rootRel} changed while it was copied`);
      try {
        await unpackInto(out, decompressStream(createReadStream(fdPath(fh.fd)), job.compression), job.target);
      } finally {
        await fh.close();
      }
    }
  }
}

/** One entry of the source as it goes into the tar: a directory's header only (the walk brings its contents). */
async function writeNode(out: TarWriter, dir: FileHandle, name: string, st: Stats, outName: string, owner: Owner | null, chmod: number | undefined, links: Map<string, string>): Promise<void> {
  const type = entryType(st);
  if (type === null) return;
  const h: OutHeader = { name: outName, type, mode: chmod ?? st.mode & 0o7777, uid: owner?.uid ?? st.uid, gid: owner?.gid ?? st.gid, mtime: st.mtime };
  switch (type) {
    case 'directory':
      return out.add({ ...h, name: `${outName}/` });
    case 'symlink': {
      const target = await readlink(fdPath(dir.fd, name));
      return out.add({ ...h, mode: st.mode & 0o7777, linkname: target });
    }
    case 'file': {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) return out.add({ ...h, type: 'link', linkname: first });
        links.set(key, outName);
      }
      const opened = await openRegularAt(dir, name);
      if (opened === null || opened === 'notRegular') throw new InvalidParameterError(`${outName} changed while it was copied`);
      try {
        return await out.file(h, opened.fh, opened.stat.size);
      } finally {
        await opened.fh.close();
      }
    }
    default:
      // fifos and device nodes: the node itself, as Docker's tar has it; never opened
      return out.add({ ...h, mode: st.mode & 0o7777, ...devNumbers(st.rdev) });
  }
}
