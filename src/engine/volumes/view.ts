// The JSON shapes: a volume (api/types/volume.Volume) and a container's Mounts
// (api/types/container.MountPoint) for inspect and ps.
import type { ContainerRecord } from '../containers/model.js';
import { parseBindSpec } from './mount-spec.js';
import type { MountPoint, VolumeRecord } from './model.js';

export interface VolumeUsage {
  Size: number;
  RefCount: number;
}

export function volumeView(v: VolumeRecord, mountpoint: string, usage?: VolumeUsage) {
  return {
    CreatedAt: v.created,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: 'local',
    ...(usage ? { UsageData: usage } : {}),
  };
}

/**
 * The container's mount points as recorded at create; a record older than volumes (no
 * mountPoints) shows its host binds as it did before.
 */
export function containerMountPoints(c: ContainerRecord): MountPoint[] {
  if (c.mountPoints) return c.mountPoints;
  const out: MountPoint[] = [];
  for (const b of c.hostConfig.Binds ?? []) {
    try {
      const { mount } = parseBindSpec(b);
      if (mount.Type === 'bind') out.push(mount);
    } catch {
      // a record from before validation got stricter: nothing to show for it
    }
  }
  return out;
}

export function mountsView(c: ContainerRecord) {
  return containerMountPoints(c).map((m) => ({
    Type: m.Type,
    ...(m.Name ? { Name: m.Name } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Driver ? { Driver: m.Driver } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  }));
}

/** What `docker cp` and `docker diff` see mounted in the container: host dir -> container dir. */
export function hostMounts(c: ContainerRecord): { source: string; destination: string; readonly: boolean }[] {
  return containerMountPoints(c)
    .filter((m) => m.Type !== 'tmpfs' && m.Source !== '')
    .map((m) => ({ source: m.Source, destination: m.Destination, readonly: !m.RW }));
}
