// `docker export`: the container's whole filesystem (image layers and its changes) as a tar
// stream; a stopped container's rootfs is mounted while the tar streams, under its lock.
import type { Readable } from 'node:stream';
import { RootDir } from '../../util/in-root/root-dir.js';
import { packTree } from './pack-path.js';
import type { ContainerService } from '../containers/service.js';
import { streamFromRootfs } from '../containers/rootfs-access.js';

export async function exportContainer(svc: ContainerService, ref: string): Promise<Readable> {
  const { tar } = await streamFromRootfs(svc, svc.get(ref), async (rootfs) => {
    const root = await RootDir.open(rootfs);
    const out = packTree(root);
    return { tar: out.tar, released: out.released.finally(() => root.close()) };
  });
  return tar;
}
