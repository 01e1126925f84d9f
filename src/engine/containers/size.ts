// `docker ps -s` / `docker inspect -s`: SizeRw is what the container wrote (its overlay upper
// dir); SizeRootFs adds the image's unpacked layers, Docker's "virtual" size.
import type { ContainerRecord } from './model.js';
import type { ContainerService } from './service.js';

export interface ContainerSizes {
  SizeRw: number;
  SizeRootFs: number;
}

export async function containerSizes(svc: ContainerService, c: ContainerRecord): Promise<ContainerSizes> {
  const { snapshots, images } = svc.deps;
  const rw = await snapshots.diffSize(c.id);
  let imageSize = 0;
  try {
    imageSize = images.get(c.imageId).size;
  } catch {
    // image gone (removed with --force): the virtual size is what the container holds
  }
  return { SizeRw: rw, SizeRootFs: rw + imageSize };
}
