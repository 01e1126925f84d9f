// What the container lifecycle asks of volumes and mounts (issue 9). ContainerService calls
// these at fixed points of create/start/remove; src/engine/volumes/ implements them.
import type { BindMount } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from '../containers/model.js';

export interface ContainerVolumes {
  /**
   * At create, before the row exists: parses Binds, Mounts, Volumes, VolumesFrom with Docker's
   * errors, creates the volumes the container names (named and anonymous) and records its
   * mount points on the record.
   */
  prepareCreate(rec: ContainerRecord): Promise<void>;
  /** A create that failed after prepareCreate: anonymous volumes it made go. */
  abandonCreate(rec: ContainerRecord): Promise<void>;
  /** At start, the rootfs mounted: the host sources to mount (volume copy-up done). */
  mountsForStart(c: ContainerRecord, rootfs: string): Promise<BindMount[]>;
  /** docker rm (after the row is gone): with `volumes`, its anonymous volumes go too. */
  removed(c: ContainerRecord, volumes: boolean): Promise<void>;
}
