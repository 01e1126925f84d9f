// `docker export`: the container's whole filesystem (image layers and its changes) as a tar
// stream; a stopped container's rootfs is mounted while the tar streams, under its lock.
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { packTree } from './archive/pack-path.js';
import type { ContainerService } from './containers.js';
import { withContainerRootfs } from './rootfs-access.js';

export function exportContainer(svc: ContainerService, ref: string): Promise<Readable> {
  const c = svc.get(ref);
  return new Promise((resolve, reject) => {
    withContainerRootfs(svc, c, async (rootfs) => {
      const tar = await packTree(rootfs);
      resolve(tar);
      await finished(tar).catch(() => undefined);
    }).catch(reject);
  });
}
