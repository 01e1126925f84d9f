// What the container lifecycle asks of volumes and mounts (issue 9). ContainerService calls
// these at fixed points of create/start/exit/remove; src/engine/volumes/ implements them.
import type { BindMount } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from '../containers/model.js';

/** What a start mounts besides the rootfs: host dirs (binds and volumes) and --mount tmpfs. */
export interface StartMounts {
  binds: BindMount[];
  /** Destination -> tmpfs data, as HostConfig.Tmpfs. */
  tmpfs: Record<string, string>;
}

export interface ContainerVolumes {
  /**
   * At create, before the row exists: parses Binds, Mounts, Volumes, VolumesFrom with Docker's
   * errors, creates the volumes the container names (named and anonymous) and records its
   * mount points on the record.
   */
  prepareCreate(rec: ContainerRecord): Promise<void>;
  /** The create's row is in: the anonymous volumes it made are no longer a crash's to undo. */
  created(rec: ContainerRecord): void;
  /** A create that failed after prepareCreate: anonymous volumes it made go. */
  abandonCreate(rec: ContainerRecord): Promise<void>;
  /**
   * At create, the snapshot prepared and before the row exists: each empty volume the container
   * copies into (not nocopy, not --volumes-from) gets the image's content at its destination,
   * once, as moby's populateVolumes. `rootfs` mounts the container's rootfs (its upper dir still
   * empty: the image's view) on first need; the caller unmounts it afterwards.
   */
  populate(rec: ContainerRecord, rootfs: () => Promise<string>): Promise<void>;
  /** At start: the host sources to mount (volumes with driver options mounted). */
  mountsForStart(c: ContainerRecord): Promise<StartMounts>;
  /** The task is gone (exit, failed start): volumes no running container uses are unmounted. */
  released(c: ContainerRecord): Promise<void>;
  /**
   * cp on a stopped container: its volumes with driver options are mounted until the returned
   * release is called (a running container's are mounted already), as moby mounts them for cp.
   */
  holdForCopy(c: ContainerRecord): Promise<() => Promise<void>>;
  /** docker rm (after the row is gone): with `volumes`, its anonymous volumes go too. */
  removed(c: ContainerRecord, volumes: boolean): Promise<void>;
  /** Daemon start: the containers still running hold their volumes' mounts. */
  recover(running: ContainerRecord[]): Promise<void>;
}
