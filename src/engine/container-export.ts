// `docker export`: the container's whole filesystem (image layers and its changes) as a tar
// stream; a stopped container's rootfs is mounted while the tar streams, under its lock.
import type { Readable } from 'node:stream';
import { packTree } from './archive/pack-path.js';
import type { ContainerService } from './containers.js';
import { streamFromRootfs } from './rootfs-access.js';

export async function exportContainer(svc: ContainerService, ref: string): Promise<Readable> {
  const { tar } = await streamFromRootfs(svc, svc.get(ref), async (rootfs) => ({ tar: await packTree(rootfs) }));
  return tar;
}
