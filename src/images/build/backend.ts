// What the builder needs from the engine: containers. A RUN step is an ordinary container made
// from the step's image (so every runtime rule of berth applies to it), COPY/ADD and WORKDIR
// write into a container that never starts, and the container's changes become the step's
// layer. The images layer knows nothing of containers; the engine implements this
// (src/engine/build/build-backend.ts).
import type { Readable } from 'node:stream';
import type { RootDir } from '../../util/in-root/root-dir.js';
import type { RunConfig } from './types.js';

/** The build request's host options each step container gets (moby's builder HostConfig). */
export interface BuildHostOptions {
  NetworkMode?: string;
  ExtraHosts?: string[];
  ShmSize?: number;
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
}

export interface BuildBackend {
  /** A container (created, not started) from `image` with `config`; returns its ID. */
  create(image: string, config: RunConfig, host: BuildHostOptions): Promise<string>;
  /** Start the container, hand its output (stdout and stderr, in order) to `output`, resolve with its exit code. */
  run(id: string, output: (chunk: Buffer) => void, signal: AbortSignal): Promise<number>;
  /**
   * Extract the tar `make` returns at '/' of the container's rootfs, through the same checks as
   * `docker cp`; `make` gets the rootfs (held open) to look the destination up in.
   */
  copyInto(id: string, make: (root: RootDir) => Promise<Readable>): Promise<void>;
  /** mkdir -p of an absolute path in the container, owned by root, 0755 (WORKDIR), only what is missing. */
  mkdirAll(id: string, path: string): Promise<void>;
  /** A user spec (`name`, `uid:gid`, `name:group`) resolved in the container's /etc/passwd and /etc/group. */
  resolveUser(id: string, spec: string): Promise<{ uid: number; gid: number }>;
  /** Run `fn` with the container's rootfs mounted (COPY --from reads it). */
  withRootfs<T>(id: string, fn: (rootfs: string) => Promise<T>): Promise<T>;
  /** The container's changes as an uncompressed layer tar. */
  layer(id: string): Readable;
  /** Remove the container (its anonymous volumes too); a running one is killed first. */
  remove(id: string): Promise<void>;
}
