// `docker cp` on the engine side (moby daemon/archive.go): stat a path, archive it, or extract a
// tar into a directory, in a running or stopped container. A stopped container's rootfs is
// mounted for the operation and unmounted after it; the container's lock is held throughout (a
// GET holds it until its tar stream ends, as moby does), so start, rm and exit handling wait.
// Paths under a bind mount's destination are served from the bind's source, as Docker does for
// volumes and binds; everything else from the container's rootfs.
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../errors.js';
import { resolveUser } from '../runtime/user.js';
import { extractInto } from './archive/extract-into.js';
import { packPath } from './archive/pack-path.js';
import { containerPathOf, resolveInRoot } from './archive/resolve-in-root.js';
import { parseBind } from './binds.js';
import type { ContainerRecord } from './container-model.js';
import type { ContainerService } from './containers.js';
import { streamFromRootfs, withContainerRootfs } from './rootfs-access.js';

/** Docker's ContainerPathStat: the X-Docker-Container-Path-Stat header, base64 JSON. */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode for an lstat result: permission bits plus Go's own type and special bits. */
export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode |= 2 ** 31;
  if (st.isSymbolicLink()) mode |= 2 ** 27;
  if (st.isBlockDevice()) mode |= 2 ** 26;
  if (st.isCharacterDevice()) mode |= 2 ** 26 + 2 ** 21;
  if (st.isFIFO()) mode |= 2 ** 25;
  if (st.isSocket()) mode |= 2 ** 24;
  if (st.mode & 0o4000) mode |= 2 ** 23;
  if (st.mode & 0o2000) mode |= 2 ** 22;
  if (st.mode & 0o1000) mode |= 2 ** 20;
  return mode >>> 0;
}

interface Located {
  /** Host directory standing for `/` of this part of the container's tree. */
  root: string;
  /** The path below that root. */
  rest: string;
  readonly: boolean;
}

export class ContainerArchive {
  constructor(private readonly svc: ContainerService) {}

  async stat(ref: string, path: string): Promise<ContainerPathStat> {
    const c = this.svc.get(ref);
    return withContainerRootfs(this.svc, c, async (rootfs) => (await this.statIn(c, rootfs, path)).stat);
  }

  /** The stat and a tar of `path`; the container stays locked until the tar has been read or dropped. */
  async get(ref: string, path: string): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    const c = this.svc.get(ref);
    return streamFromRootfs(this.svc, c, async (rootfs) => {
      const { stat, host } = await this.statIn(c, rootfs, path);
      // `dir/.` asks for the directory's contents: entries named ./...
      const rebase = absolute(path).endsWith('/.') ? '.' : stat.name;
      return { stat, tar: packPath(host, rebase) };
    });
  }

  async put(ref: string, path: string, body: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const c = this.svc.get(ref);
    await withContainerRootfs(this.svc, c, async (rootfs) => {
      const at = this.locate(c, rootfs, path);
      const dir = await resolveInRoot(at.root, at.rest, { followLast: true });
      const st = await lstat(dir).catch(() => null);
      if (!st) throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
      if (!st.isDirectory()) throw new InvalidParameterError('extraction point is not a directory');
      if (at.readonly) throw new ForbiddenError('container rootfs is marked read-only');
      // moby's tarCopyOptions: with copyUIDGID, files belong to the container's user (if it has one)
      const chown = opts.copyUIDGID && c.config.User ? await resolveUser(rootfs, c.config.User) : undefined;
      await extractInto(at.root, containerPathOf(at.root, dir), body, {
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
        chown: chown ? { uid: chown.uid, gid: chown.gid } : undefined,
      });
    });
  }

  private async statIn(c: ContainerRecord, rootfs: string, path: string): Promise<{ stat: ContainerPathStat; host: string }> {
    const at = this.locate(c, rootfs, path);
    // moby's ResolvePath: the directory part is resolved in the container, the last element not
    const host = await resolveInRoot(at.root, at.rest, { followLast: false });
    const st = await lstat(host).catch(() => null);
    if (!st) throw new NotFoundError(`Could not find the file ${path} in container ${c.name.slice(1)}`);
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      const target = await resolveInRoot(at.root, at.rest, { followLast: true });
      linkTarget = containerPathOf(at.root, target);
    }
    const abs = absolute(path);
    return {
      host,
      stat: { name: posix.basename(abs) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget },
    };
  }

  /** Which host tree serves `path`: the bind whose destination holds it, else the rootfs. */
  private locate(c: ContainerRecord, rootfs: string, path: string): Located {
    if (!path) throw new InvalidParameterError('path is required');
    const abs = posix.normalize(absolute(path));
    const binds = (c.hostConfig.Binds ?? []).map(parseBind).sort((a, b) => b.destination.length - a.destination.length);
    for (const b of binds) {
      const dest = posix.normalize(b.destination);
      if (abs === dest || abs.startsWith(`${dest}/`)) return { root: b.source, rest: abs.slice(dest.length) || '/', readonly: b.readonly };
    }
    return { root: rootfs, rest: abs, readonly: c.hostConfig.ReadonlyRootfs };
  }
}

/** A client path as an absolute container path, keeping a trailing `/.` or `/` (moby PreserveTrailingDotOrSeparator). */
function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
