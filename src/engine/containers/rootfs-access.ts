// Operations on a container's files that work whether it runs or not (cp, export): under the
// container's lock, its rootfs is mounted if it was not, and unmounted again afterwards unless
// the container is running by then.
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ConflictError, NotFoundError } from '../../errors.js';
import { containerMountPoints } from '../volumes/view.js';
import type { ContainerRecord } from './model.js';
import { isRunning, type ContainerService } from './service.js';

export function withContainerRootfs<T>(svc: ContainerService, c: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T> {
  return svc.lock.run(c.id, async () => {
    if (!svc.deps.store.get(c.id)) throw new NotFoundError(`No such container: ${c.id}`);
    if (c.state.Status === 'removing' || c.state.Status === 'dead') {
      throw new ConflictError(`container ${c.id} is marked for removal and cannot be accessed`);
    }
    const rootfs = await svc.deps.snapshots.mount(c.id, c.imageId);
    let releaseVolumes: (() => Promise<void>) | undefined;
    try {
      if (!isRunning(c)) releaseVolumes = await svc.deps.volumes.holdForCopy(c);
      return await fn(rootfs);
    } finally {
      await releaseVolumes?.();
      if (!isRunning(c)) await unmountSoon(svc, c.id);
    }
  });
}

/**
 * For a response that streams a tar out of the rootfs (cp out, export): resolves with what
 * `open` made as soon as it is made, and keeps the container locked and mounted until its tar
 * stream has ended or been dropped and the walk behind it has let go of the tree.
 */
export function streamFromRootfs<T extends { tar: Readable; released: Promise<void> }>(
  svc: ContainerService,
  c: ContainerRecord,
  open: (rootfs: string) => Promise<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    withContainerRootfs(svc, c, async (rootfs) => {
      const opened = await open(rootfs);
      resolve(opened);
      await finished(opened.tar).catch(() => undefined);
      // the walk's fds keep the mount busy until they are closed
      await opened.released.catch(() => undefined);
    }).catch(reject);
  });
}

/** Unmounts (the snapshotter waits out a target a request just wrote to being busy a moment). */
async function unmountSoon(svc: ContainerService, id: string): Promise<void> {
  await svc.deps.snapshots.unmount(id).catch((err: unknown) => {
    svc.deps.logger.warn({ err, id }, 'could not unmount a stopped container\'s rootfs after a copy; start or rm will');
  });
}

// What runc and berth put into every rootfs (mountpoints), which `docker diff`, `docker commit`
// and `docker export` leave out as moby's init layer does.
const BERTH_MOUNTPOINTS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/sbin/docker-init', '/.dockerenv']);
const BERTH_MOUNT_TREES = ['/proc', '/sys', '/dev'];

/** Paths of `c`'s rootfs that are mountpoints, not the container's own changes. */
export function mountpointFilter(c: ContainerRecord): (path: string) => boolean {
  const mine = [
    ...containerMountPoints(c).map((m) => m.Destination),
    ...Object.keys((c.hostConfig.Tmpfs as Record<string, string> | undefined) ?? {}),
  ].filter(Boolean);
  return (path) =>
    BERTH_MOUNTPOINTS.has(path) ||
    BERTH_MOUNT_TREES.some((t) => path === t || path.startsWith(`${t}/`)) ||
    mine.some((m) => path === m || path.startsWith(`${m}/`));
}
