// `docker diff`: what the container changed, from its overlay upper dir (src/images/layers/overlay-diff.ts),
// without the mountpoints runc and berth create (moby keeps those in its init layer). A directory
// that shows as modified only because such a mountpoint was made in it is left out too.
import { walkUpper, type ChangeKind } from '../../images/layers/overlay-diff.js';
import type { ContainerService } from '../containers/service.js';
import { mountpointFilter } from '../containers/rootfs-access.js';

export interface ContainerChange {
  Path: string;
  Kind: ChangeKind;
}

export async function containerChanges(svc: ContainerService, ref: string): Promise<ContainerChange[]> {
  const c = svc.get(ref);
  const { snapshots, images } = svc.deps;
  const skip = mountpointFilter(c);
  const out: { change: ContainerChange; dir: boolean }[] = [];
  for await (const e of walkUpper(snapshots.upperDir(c.id), images.layerDirs(c.imageId), skip)) {
    out.push({ change: { Path: e.path, Kind: e.kind }, dir: e.stat.isDirectory() && e.kind === 0 });
  }
  // Depth-first, parents first: a directory's descendants follow it directly. A modified dir
  // with none is one that was only copied up to hold a mountpoint (a chmod of a dir alone is not
  // reported either, as with moby's overlay diff of metadata-only changes).
  return out
    .filter(({ change, dir }, i) => !dir || (out[i + 1]?.change.Path.startsWith(`${change.Path}/`) ?? false))
    .map((o) => o.change);
}
