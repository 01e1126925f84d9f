// Placeholder volumes until the local driver arrives: host bind mounts only.
import type { BindMount } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from '../containers/model.js';
import { parseBind } from './binds.js';
import type { ContainerVolumes } from './types.js';

export class VolumeService implements ContainerVolumes {
  async prepareCreate(rec: ContainerRecord): Promise<void> {
    for (const b of rec.hostConfig.Binds ?? []) parseBind(b);
  }

  async abandonCreate(): Promise<void> {}

  async mountsForStart(c: ContainerRecord): Promise<BindMount[]> {
    return (c.hostConfig.Binds ?? []).map(parseBind);
  }

  async removed(): Promise<void> {}
}
