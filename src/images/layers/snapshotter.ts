// Per-container writable layers: <root>/snapshots/containers/<cid>/{upper,work,merged},
// mounted as overlayfs over the image's layer dirs. `mount` runs in the snapshots dir with
// relative paths, so the option string stays well under the one page the kernel accepts
// even for images with many layers. A container's snapshot holds its image's layers from
// prepare to remove, so rmi -f of the image leaves them to it (moby's RWLayer).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { SystemError } from '../../errors.js';
import type { ImageServiceApi, SnapshotterApi } from '../types.js';
import { dirSize } from './dir-size.js';
import { removeTree } from '../../util/in-root/dir-ops.js';
import { dropNonDirSync, ensureRealDirSync, type DamageLog } from '../store/real-dir-sync.js';

const run = promisify(execFile);
const PAGE = 4096;

/** What the snapshotter needs of the images: lower dirs, and holds on them per container. */
export interface SnapshotImages extends Pick<ImageServiceApi, 'layerDirs'> {
  retainLayers(containerId: string, imageId: string): void;
  releaseLayers(containerId: string): Promise<void>;
}

export interface SnapshotterOptions {
  root: string;
  images: SnapshotImages;
  /** Where start-up repairs of the snapshots dir are reported. */
  logger?: Pick<Logger, 'warn'>;
}

/** Decode the octal escapes mountinfo uses for spaces and the like. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp !== undefined && unescapeMountPath(mp) === path) return true;
  }
  return false;
}

/**
 * Whether the container's merged dir has a mount on it: an overlay (any mount but a bind of the
 * same filesystem, which berth never puts there) has a device of its own. Two stats instead of
 * reading the whole mount table, which grows with every mount on the host.
 */
async function hasMountOn(merged: string, base: string): Promise<boolean> {
  const [m, b] = await Promise.all([stat(merged).catch(() => null), stat(base).catch(() => null)]);
  return m !== null && b !== null && m.dev !== b.dev;
}

export class Snapshotter implements SnapshotterApi {
  private readonly snapshotsDir: string;
  private readonly containersDir: string;
  private readonly images: SnapshotterOptions['images'];
  /** Serialises operations per container so mount/unmount/remove never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(opts: SnapshotterOptions) {
    this.snapshotsDir = join(opts.root, 'snapshots');
    this.containersDir = join(this.snapshotsDir, 'containers');
    this.images = opts.images;
    const logger = opts.logger;
    this.repairSync(logger ? (fields, msg) => logger.warn(fields, msg) : () => undefined);
  }

  /** Startup: a non-directory where the containers' snapshot dirs belong is removed, not fatal. */
  private repairSync(log: DamageLog): void {
    ensureRealDirSync(this.snapshotsDir, log);
    ensureRealDirSync(this.containersDir, log);
    // the entries' types come with the listing: only a non-directory costs an lstat (thousands of containers)
    for (const e of readdirSync(this.containersDir, { withFileTypes: true })) if (!e.isDirectory()) dropNonDirSync(join(this.containersDir, e.name), log);
  }

  /** Errors go to clients: paths under the data-root are shown relative to the snapshots dir. */
  private scrub(text: string): string {
    return text.split(`${this.snapshotsDir}/`).join('');
  }

  private dirs(containerId: string) {
    if (!/^[a-zA-Z0-9_.-]+$/.test(containerId)) throw new SystemError(`invalid container id for a snapshot: ${containerId}`);
    const base = join(this.containersDir, containerId);
    return { base, upper: join(base, 'upper'), work: join(base, 'work'), merged: join(base, 'merged') };
  }

  private serial<T>(containerId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(containerId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.queues.set(containerId, next);
    void next.finally(() => {
      if (this.queues.get(containerId) === next) this.queues.delete(containerId);
    }).catch(() => undefined);
    return next;
  }

  private async prepareDirs(containerId: string): Promise<ReturnType<Snapshotter['dirs']>> {
    const d = this.dirs(containerId);
    await mkdir(d.base, { recursive: true, mode: 0o755 });
    await Promise.all([
      mkdir(d.upper, { recursive: true, mode: 0o755 }),
      mkdir(d.work, { recursive: true, mode: 0o700 }),
      mkdir(d.merged, { recursive: true, mode: 0o755 }),
    ]);
    return d;
  }

  prepare(containerId: string, imageId: string): Promise<void> {
    return this.serial(containerId, async () => {
      this.images.retainLayers(containerId, imageId);
      await this.prepareDirs(containerId);
    });
  }

  mount(containerId: string, imageId: string): Promise<string> {
    return this.serial(containerId, async () => {
      const d = await this.prepareDirs(containerId);
      if (await hasMountOn(d.merged, d.base)) return d.merged;
      const dirs = this.images.layerDirs(imageId);
      for (const dir of dirs) {
        const st = await lstat(dir).catch(() => null);
        if (st === null || !st.isDirectory()) {
          throw new SystemError(`layer sha256:${basename(dir)} of image ${imageId} is missing from the layer store: pull or load the image again, or remove it`);
        }
      }
      const lowers = dirs.map((p) => relative(this.snapshotsDir, p));
      if (lowers.length === 0) throw new SystemError(`image ${imageId} has no layers to mount`);
      const options = `lowerdir=${lowers.join(':')},upperdir=${relative(this.snapshotsDir, d.upper)},workdir=${relative(this.snapshotsDir, d.work)}`;
      if (options.length >= PAGE) throw new SystemError(`too many layers to mount (${lowers.length}): overlay options exceed one page`);
      try {
        await run('mount', ['-t', 'overlay', 'overlay', '-o', options, d.merged], { cwd: this.snapshotsDir });
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr?.trim();
        throw new SystemError(`error mounting the container's rootfs: ${this.scrub(stderr || (err as Error).message)}`);
      }
      return d.merged;
    });
  }

  private async unmountNow(containerId: string): Promise<void> {
    const d = this.dirs(containerId);
    // Stacked mounts (rare) are peeled one by one.
    let busy = 0;
    for (let i = 0; i < 8 && (await hasMountOn(d.merged, d.base)); i++) {
      try {
        await run('umount', [d.merged]);
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? '';
        if (/not mounted|no mount point/i.test(stderr)) return;
        // a file the daemon is just closing (a copy, a user lookup) keeps it busy for a moment
        if (/target is busy/i.test(stderr) && busy < 5) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** busy++));
          i--;
          continue;
        }
        throw new SystemError(`error unmounting the container's rootfs: ${this.scrub(stderr.trim() || (err as Error).message)}`);
      }
    }
  }

  unmount(containerId: string): Promise<void> {
    return this.serial(containerId, () => this.unmountNow(containerId));
  }

  remove(containerId: string): Promise<void> {
    return this.serial(containerId, async () => {
      await this.unmountNow(containerId);
      const d = this.dirs(containerId);
      if (await hasMountOn(d.merged, d.base)) throw new SystemError(`container ${containerId}'s rootfs is still mounted`);
      // the container may have nested its tree deeper than PATH_MAX, where node's rm gives up
      await removeTree(d.base);
      // Only once the upper dir is gone: the image's layers may go with it (rmi -f before).
      await this.images.releaseLayers(containerId);
    });
  }

  upperDir(containerId: string): string {
    return this.dirs(containerId).upper;
  }

  diffSize(containerId: string): Promise<number> {
    return dirSize(this.dirs(containerId).upper);
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.containersDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
