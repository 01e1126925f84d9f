// What the container lifecycle asks of networking (issue 9). ContainerService calls these at
// fixed points of create/start/exit/remove/daemon start; src/engine/networks/ implements them
// over netavark (src/runtime/) and its own SQLite tables.
import type { ContainerRecord } from '../containers/model.js';
import type { EtcOptions } from '../containers/etc-files.js';

/** What a started container's spec and its /etc files get from its networks. */
export interface NetworkAttachment {
  /** The network namespace for the spec. */
  network: { mode: 'none' | 'host' | 'path'; path?: string };
  /** Additions to the /etc files (the container's own addresses, links, embedded DNS...). */
  etc: Partial<EtcOptions>;
  /**
   * Settles when the namespace's interfaces, routes and forwards are in place: the task may be
   * created meanwhile (the namespace exists), but must not start before. A failure has already
   * undone the plumbing.
   */
  ready?: Promise<void>;
}

export interface ContainerNetworking {
  /**
   * At create, before the row exists: validates HostConfig.NetworkMode, NetworkingConfig and
   * the port options with Docker's errors, and normalises the record (e.g. 'default' ->
   * 'bridge'). Nothing is plumbed yet.
   */
  prepareCreate(rec: ContainerRecord, networkingConfig: unknown): Promise<void>;
  /** A create that failed after prepareCreate: forget what it recorded. */
  abandonCreate(rec: ContainerRecord): Promise<void>;
  /** At start, after the rootfs is mounted: plumbs the namespace. release() undoes it. */
  setUp(c: ContainerRecord): Promise<NetworkAttachment>;
  /** The task is gone (exit, failed start, an exit found at daemon start): tear down. Idempotent. */
  release(c: ContainerRecord): Promise<void>;
  /** docker rename (under the container's lock, the row renamed): DNS records follow. */
  renamed(c: ContainerRecord, oldName: string): Promise<void>;
  /** docker rm: the container's endpoints are forgotten. */
  removed(c: ContainerRecord): Promise<void>;
  /** Daemon start, before containers are reconciled: the given ones are still running. */
  recover(running: ContainerRecord[]): Promise<void>;
}
