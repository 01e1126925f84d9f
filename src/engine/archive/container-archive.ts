// `docker cp` on the engine side (moby daemon/archive.go): stat a path, archive it, or extract a
// tar into a directory, in a running or stopped container. A stopped container's rootfs is
// mounted for the operation and unmounted after it; the container's lock is held throughout (a
// GET holds it until its tar stream ends, as moby does), so start, rm and exit handling wait.
// Paths under a bind's or a volume's destination are served from its host directory, as Docker
// does; everything else from the container's rootfs.
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../../errors.js';
import { resolveUser } from '../../runtime/user.js';
import { lstatAt } from '../../util/in-root/dir-ops.js';
import { InRootError, RootDir, type Resolved } from '../../util/in-root/root-dir.js';
import { extractInto } from './extract-into.js';
import { packPath } from './pack-path.js';
import { hostMounts } from '../volumes/view.js';
import type { ContainerRecord } from '../containers/model.js';
import type { ContainerService } from '../containers/service.js';
import { streamFromRootfs, withContainerRootfs } from '../containers/rootfs-access.js';

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


export class ContainerArchive {
  constructor(private readonly svc: ContainerService) {}

  async stat(ref: string, path: string): Promise<ContainerPathStat> {
    const c = this.svc.get(ref);
    return withContainerRootfs(this.svc, c, (rootfs) =>
      this.withRoot(c, rootfs, async (root) => {
        const { stat, found } = await this.statIn(c, root, path);
        await found.close();
        return stat;
      }),
    );
  }

  /** The stat and a tar of `path`; the container stays locked until the tar has been read or dropped. */
  async get(ref: string, path: string): Promise<{ stat: ContainerPathStat; tar: Readable; released: Promise<void> }> {
    const c = this.svc.get(ref);
    return streamFromRootfs(this.svc, c, async (rootfs) => {
      const root = await RootDir.open(rootfs, this.mounts(c));
      try {
        const { stat, found } = await this.statIn(c, root, path);
        // `dir/.` asks for the directory's contents: entries named ./...
        const rebase = absolute(path).endsWith('/.') || stat.name === '/' ? '.' : stat.name;
        // the walk starts from the very directory the stat looked in
        const out = packPath(found, rebase);
        const released = out.released.finally(() => root.close());
        return { stat, tar: out.tar, released };
      } catch (err) {
        await root.close();
        throw err;
      }
    });
  }

  async put(ref: string, path: string, body: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const c = this.svc.get(ref);
    await withContainerRootfs(this.svc, c, (rootfs) =>
      this.withRoot(c, rootfs, async (root) => {
        const dir = await root.openDir(checkedPath(path)).catch((err: unknown) => {
          if (err instanceof InRootError && err.code === 'ENOENT') throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
          if (err instanceof InRootError && err.code === 'ENOTDIR') throw new InvalidParameterError('extraction point is not a directory');
          if (err instanceof InRootError) throw new InvalidParameterError(err.message);
          throw err;
        });
        const dirPath = dir.path;
        await dir.close();
        // where the extraction point really is decides (a link into a read-only bind included)
        if (this.readonlyAt(c, dirPath)) throw new ForbiddenError('container rootfs is marked read-only');
        // moby's tarCopyOptions: with copyUIDGID, files belong to the container's user (if it has one)
        const chown = opts.copyUIDGID && c.config.User ? await resolveUser(rootfs, c.config.User) : undefined;
        await extractInto(root, dirPath, body, {
          noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
          chown: chown ? { uid: chown.uid, gid: chown.gid } : undefined,
        });
      }),
    );
  }

  /** The rootfs with the container's binds mounted where the container sees them. */
  private withRoot<T>(c: ContainerRecord, rootfs: string, fn: (root: RootDir) => Promise<T>): Promise<T> {
    return RootDir.with(rootfs, fn, this.mounts(c));
  }

  private mounts(c: ContainerRecord): Map<string, string> {
    return new Map(this.binds(c).map((b) => [b.destination, b.source]));
  }

  private binds(c: ContainerRecord): { destination: string; source: string; readonly: boolean }[] {
    return hostMounts(c).map((b) => ({
      source: b.source,
      readonly: b.readonly,
      // `/data/` and `/data` are one mountpoint
      destination: posix.normalize(b.destination).replace(/(.)\/+$/, '$1'),
    }));
  }

  /** Whether container path `path` (resolved) lies on a read-only bind or a read-only rootfs. */
  private readonlyAt(c: ContainerRecord, path: string): boolean {
    const under = this.binds(c)
      .filter((b) => path === b.destination || path.startsWith(`${b.destination}/`))
      .sort((a, b) => b.destination.length - a.destination.length)[0];
    return under ? under.readonly : c.hostConfig.ReadonlyRootfs;
  }

  /** The stat of `path` and the lookup that found it (the caller closes it). */
  private async statIn(c: ContainerRecord, root: RootDir, path: string): Promise<{ stat: ContainerPathStat; found: Resolved }> {
    const notFound = () => new NotFoundError(`Could not find the file ${path} in container ${c.name.slice(1)}`);
    // moby's ResolvePath: the directory part is resolved in the container, the last element not
    const found = await root.resolve(checkedPath(path), { followLast: false }).catch((err: unknown) => {
      if (err instanceof InRootError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) throw notFound();
      if (err instanceof InRootError) throw new InvalidParameterError(err.message);
      throw err;
    });
    try {
      const st = found.name === null ? await found.dir.fh.stat() : await lstatAt(found.dir.fh, found.name);
      if (!st) throw notFound();
      let linkTarget = '';
      if (st.isSymbolicLink()) {
        const target = await root.resolve(checkedPath(path), { followLast: true }).catch((err: unknown) => {
          if (err instanceof InRootError) throw new InvalidParameterError(err.message);
          throw err;
        });
        await target.close();
        linkTarget = target.path;
      }
      const abs = absolute(path);
      return {
        found,
        stat: { name: posix.basename(abs) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget },
      };
    } catch (err) {
      await found.close();
      throw err;
    }
  }
}

function checkedPath(path: string): string {
  if (!path) throw new InvalidParameterError('path is required');
  return absolute(path);
}

/** A client path as an absolute container path, keeping a trailing `/.` or `/` (moby PreserveTrailingDotOrSeparator). */
function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
