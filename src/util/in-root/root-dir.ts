// A directory tree that belongs to someone else (a container's rootfs, a bind source, an upper
// dir), walked the way the kernel would walk it if that directory were `/`: every symlink is
// followed inside the root, `..` stops at the root, and every step goes from an open directory
// fd to one name in it (fd-path.ts). A process in the container can rename and swap what it
// likes while we work: the fds we hold keep naming the directories we checked, so no lookup ever
// leaves the tree (moby gets the same from chrootarchive; runc from filepath-securejoin).
import { mkdir, open, readlink, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { OPEN_DIR_NOFOLLOW, OPEN_PATH_NOFOLLOW, O_PATH, fdPath } from './fd-path.js';

// Linux gives up after 40 links in one lookup (MAXSYMLINKS).
const MAX_LINKS = 40;
/** Directory fds one lookup holds at most, besides the root's. */
export const MAX_HELD_LEVELS = 32;

/** A directory on the way down; fh null once let go (its identity kept to check it when reopened). */
interface Level {
  fh: FileHandle | null;
  path: string;
  dev: number;
  ino: number;
}

/** A failed lookup inside a root: errno-like code, and the path as the container sees it (never a host path). */
export class InRootError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'ENOTDIR' | 'ELOOP' | 'EEXIST' | 'EINVAL',
    readonly path: string,
    detail?: string,
  ) {
    super(`${path}: ${detail ?? DESCRIPTIONS[code]}`);
  }
}
const DESCRIPTIONS = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  EEXIST: 'file exists',
  EINVAL: 'invalid argument',
};

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** An open directory (O_PATH) and whether its fd is ours to close. */
export interface DirRef {
  fh: FileHandle;
  /** The directory as the container sees it ('/' for the root). */
  path: string;
}

/** Where a lookup ended: an open parent directory and the last name in it (null: the root itself). */
export class Resolved {
  constructor(
    private readonly rootFh: FileHandle,
    readonly dir: DirRef,
    readonly name: string | null,
  ) {}

  /** The looked-up path as the container sees it. */
  get path(): string {
    if (this.name === null) return this.dir.path;
    return this.dir.path === '/' ? `/${this.name}` : `${this.dir.path}/${this.name}`;
  }

  /** `/proc/self/fd/N/name` for single calls on the final entry (or the directory itself). */
  get at(): string {
    return this.name === null ? fdPath(this.dir.fh.fd) : fdPath(this.dir.fh.fd, this.name);
  }

  async close(): Promise<void> {
    if (this.dir.fh !== this.rootFh) await this.dir.fh.close();
  }
}

/** O_PATH-opens `name` in `dir` without following it; null when it is not there. */
export async function openPathAt(dir: FileHandle, name: string): Promise<FileHandle | null> {
  try {
    return await open(fdPath(dir.fd, name), OPEN_PATH_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw err;
  }
}

export class RootDir {
  private constructor(
    /** The host directory; only for logs, never for lookups. */
    readonly host: string,
    readonly fh: FileHandle,
    /** Binds: a container directory -> the host directory mounted there. */
    private readonly mounts: ReadonlyMap<string, string>,
  ) {}

  /**
   * Opens `host` (a path the daemon chose, so it is trusted) as the root of a lookup. A lookup
   * that reaches a directory of `mounts` goes on in the host directory mounted there (a bind
   * source, trusted as the user named it), as the container's own mount namespace would: `..`
   * leads back out of it and absolute links restart at the root.
   */
  static async open(host: string, mounts: ReadonlyMap<string, string> = new Map()): Promise<RootDir> {
    return new RootDir(host, await open(host, OPEN_DIR_NOFOLLOW), mounts);
  }

  /** Runs `fn` with `host` open as a root, and closes it after. */
  static async with<T>(host: string, fn: (root: RootDir) => Promise<T>, mounts?: ReadonlyMap<string, string>): Promise<T> {
    const root = await RootDir.open(host, mounts);
    try {
      return await fn(root);
    } finally {
      await root.close();
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** The directory `name` in `dir` as an fd that can be read (O_RDONLY, not O_PATH); null if it is not one. */
  static async openChild(dir: FileHandle, name: string): Promise<FileHandle | null> {
    try {
      return await open(fdPath(dir.fd, name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
      throw err;
    }
  }

  /**
   * Looks `path` up inside the root. Every component before the last must be a directory (or a
   * symlink to one, followed in scope); the last is followed too when `followLast`. With `create`,
   * missing directories are made on the way, the last component included. The last component
   * need not exist (check `stat`); a missing one before it is an InRootError ENOENT.
   */
  async resolve(path: string, opts: { followLast: boolean; create?: boolean }): Promise<Resolved> {
    return this.walk(path, { ...opts, keepDir: false });
  }

  /**
   * The directory `path` names (symlinks followed in scope), open: an InRootError ENOTDIR or
   * ENOENT when it is something else or missing. The caller closes it (never the root's own fd).
   */
  async openDir(path: string, opts: { create?: boolean } = {}): Promise<Resolved> {
    const at = await this.walk(path, { followLast: true, create: opts.create, keepDir: true });
    if (at.name === null) return at;
    const exists = await openPathAt(at.dir.fh, at.name).then(async (fh) => (fh ? (await fh.close(), true) : false));
    await at.close();
    throw new InRootError(exists ? 'ENOTDIR' : 'ENOENT', at.path);
  }

  private async walk(path: string, opts: { followLast: boolean; create?: boolean; keepDir: boolean }): Promise<Resolved> {
    let pending = splitPath(path);
    // the directories from the root down to where we are; the root's fd is never closed here.
    // Only the deepest MAX_HELD_LEVELS are held: a container can nest directories (and chain
    // symlinks through them) deeper than the daemon has fds; a level let go is reopened as `..`
    // of the one below it when the lookup climbs back, and must be the very directory it was.
    const stack: Level[] = [{ fh: this.fh, path: '/', dev: 0, ino: 0 }];
    let lo = 1; // levels 1..lo-1 are let go, lo.. are held
    const top = (): DirRef => {
      const l = stack[stack.length - 1]!;
      return { fh: l.fh!, path: l.path };
    };
    const closeAbove = async (depth: number) => {
      while (stack.length > depth) await stack.pop()!.fh?.close();
      lo = Math.min(lo, Math.max(stack.length, 1));
    };
    const push = async (fh: FileHandle, childPath: string) => {
      stack.push({ fh, path: childPath, dev: 0, ino: 0 });
      if (stack.length - lo <= MAX_HELD_LEVELS) return;
      const oldest = stack[lo++]!;
      const held = oldest.fh!;
      oldest.fh = null;
      try {
        ({ dev: oldest.dev, ino: oldest.ino } = await held.stat());
      } finally {
        await held.close();
      }
    };
    // one level up: its parent reopened first if it was let go
    const popOne = async () => {
      const child = stack.pop()!;
      try {
        const parent = stack[stack.length - 1]!;
        if (parent.fh === null) {
          const fh = await open(`${fdPath(child.fh!.fd)}/..`, OPEN_DIR_NOFOLLOW);
          const st = await fh.stat().catch(() => null);
          if (st === null || st.dev !== parent.dev || st.ino !== parent.ino) {
            await fh.close();
            throw new InRootError('EINVAL', parent.path, 'was moved while the path was looked up');
          }
          parent.fh = fh;
          lo = stack.length - 1;
        }
      } finally {
        await child.fh!.close();
      }
    };
    // hands back the top directory; the ones between the root and it are closed
    const done = async (dir: DirRef, name: string | null) => {
      for (const d of stack.splice(1)) if (d.fh !== dir.fh) await d.fh?.close();
      return new Resolved(this.fh, dir, name);
    };
    let links = 0;
    try {
      for (;;) {
        const part = pending.shift();
        if (part === undefined) {
          if (stack.length === 1 || opts.keepDir) return done(top(), null);
          // the whole path named a directory we opened: hand back its parent and its name
          const name = baseName(stack[stack.length - 1]!.path);
          await popOne();
          return done(top(), name);
        }
        if (part === '..') {
          if (stack.length > 1) await popOne();
          continue;
        }
        const last = pending.length === 0;
        const childPath = join(top().path, part);
        const mounted = this.mounts.get(childPath);
        if (mounted !== undefined) {
          await push(await open(mounted, O_PATH | constants.O_DIRECTORY), childPath);
          // a mountpoint is a directory whatever `followLast` says: hand back the mounted root
          if (last) return done(top(), null);
          continue;
        }
        const fh = await openPathAt(top().fh, part);
        if (fh === null) {
          if (opts.create) {
            await mkdir(fdPath(top().fh.fd, part), { mode: 0o755 }).catch((err) => {
              if (errnoOf(err) !== 'EEXIST') throw err;
            });
            pending.unshift(part); // open what is there now, whoever made it
            continue;
          }
          if (last) return done(top(), part);
          throw new InRootError('ENOENT', childPath);
        }
        let st: Stats;
        try {
          st = await fh.stat();
        } catch (err) {
          await fh.close();
          throw err;
        }
        if (st.isSymbolicLink()) {
          await fh.close();
          if (last && !opts.followLast) return done(top(), part);
          if (++links > MAX_LINKS) throw new InRootError('ELOOP', path);
          let target: string;
          try {
            target = await readlink(fdPath(top().fh.fd, part));
          } catch (err) {
            // swapped for something else since the open: look at it again
            if (errnoOf(err) === 'EINVAL' || errnoOf(err) === 'ENOENT') {
              pending.unshift(part);
              continue;
            }
            throw err;
          }
          if (target.startsWith('/')) await closeAbove(1);
          pending = [...splitPath(target), ...pending];
          continue;
        }
        if (st.isDirectory()) {
          // reopen as a directory so that a swap between our open and now cannot matter
          await fh.close();
          let dir: FileHandle;
          try {
            dir = await open(fdPath(top().fh.fd, part), OPEN_DIR_NOFOLLOW);
          } catch (err) {
            if (errnoOf(err) === 'ENOTDIR' || errnoOf(err) === 'ELOOP' || errnoOf(err) === 'ENOENT') {
              pending.unshift(part);
              if (++links > MAX_LINKS) throw new InRootError('ELOOP', path);
              continue;
            }
            throw err;
          }
          await push(dir, childPath);
          continue;
        }
        await fh.close();
        if (last) return done(top(), part);
        throw new InRootError('ENOTDIR', childPath);
      }
    } catch (err) {
      await closeAbove(1);
      throw err;
    }
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
