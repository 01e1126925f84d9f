// Per-container writable layers: <root>/snapshots/containers/<cid>/{upper,work,merged},
// mounted as overlayfs over the image's layer dirs. `mount` runs in the snapshots dir with
// relative paths, so the option string stays well under the one page the kernel accepts
// even for images with many layers.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { SystemError } from '../errors.js';
import type { ImageServiceApi, SnapshotterApi } from './types.js';
import { dirSize } from './dir-size.js';

const run = promisify(execFile);
const PAGE = 4096;

export interface SnapshotterOptions {
  root: string;
  images: Pick<ImageServiceApi, 'layerDirs'>;
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
    await mkdir(d.upper, { recursive: true, mode: 0o755 });
    await mkdir(d.work, { recursive: true, mode: 0o700 });
    await mkdir(d.merged, { recursive: true, mode: 0o755 });
    return d;
  }

  prepare(containerId: string, _imageId: string): Promise<void> {
    return this.serial(containerId, async () => {
      await this.prepareDirs(containerId);
    });
  }

  mount(containerId: string, imageId: string): Promise<string> {
    return this.serial(containerId, async () => {
      const d = await this.prepareDirs(containerId);
      if (await isMountPoint(d.merged)) return d.merged;
      const lowers = this.images.layerDirs(imageId).map((p) => relative(this.snapshotsDir, p));
      if (lowers.length === 0) throw new SystemError(`image ${imageId} has no layers to mount`);
      const options = `lowerdir=${lowers.join(':')},upperdir=${relative(this.snapshotsDir, d.upper)},workdir=${relative(this.snapshotsDir, d.work)}`;
      if (options.length >= PAGE) throw new SystemError(`too many layers to mount (${lowers.length}): overlay options exceed one page`);
      try {
        await run('mount', ['-t', 'overlay', 'overlay', '-o', options, d.merged], { cwd: this.snapshotsDir });
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr?.trim();
        throw new SystemError(`error mounting the container's rootfs: ${stderr || (err as Error).message}`);
      }
      return d.merged;
    });
  }

  private async unmountNow(containerId: string): Promise<void> {
    const d = this.dirs(containerId);
    // Stacked mounts (rare) are peeled one by one.
    for (let i = 0; i < 8 && (await isMountPoint(d.merged)); i++) {
      try {
        await run('umount', [d.merged]);
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? '';
        if (/not mounted|no mount point/i.test(stderr)) return;
        throw new SystemError(`error unmounting the container's rootfs: ${stderr.trim() || (err as Error).message}`);
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
      if (await isMountPoint(d.merged)) throw new SystemError(`container rootfs ${d.merged} is still mounted`);
      await rm(d.base, { recursive: true, force: true });
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
