// What the images layer offers the engine. Images know nothing of containers or HTTP:
// the engine passes in what it must decide (is an image in use?) as callbacks.
import type { Readable } from 'node:stream';

/** The runtime defaults an image carries (the "config" object of an OCI image config). */
export interface ImageContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  Shell?: string[];
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
}

/** The image config blob (OCI image-spec config / docker image JSON). Its sha256 is the image ID. */
export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ImageContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
}

export interface ImageRecord {
  /** 'sha256:<64 hex>' of the config blob. */
  id: string;
  /** Fully normalised references, e.g. 'docker.io/library/busybox:latest'. */
  repoTags: string[];
  /** Fully normalised, e.g. 'docker.io/library/busybox@sha256:...'. */
  repoDigests: string[];
  config: ImageConfigFile;
  /** Sum of the unpacked layer sizes, in bytes. */
  size: number;
  /** When berth stored the image (ISO 8601); the image's own date is config.created. */
  storedAt: string;
  /** The image a build step or commit made this one from (moby's Parent); local only, never pushed. */
  parent?: string;
}

/** One message of Docker's JSON progress stream (pkg/jsonmessage). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  errorDetail?: { code?: number; message: string };
  error?: string;
  aux?: unknown;
}

export type ProgressFn = (msg: JsonMessage) => void;

/** Registry credentials as decoded from X-Registry-Auth. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
  email?: string;
}

/** One entry of DELETE /images/{name}'s answer. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

export interface ImageEvent {
  action: 'pull' | 'tag' | 'untag' | 'delete' | 'load' | 'import' | 'push' | 'save';
  /** Image ID or reference, as Docker reports it in the event's Actor.ID. */
  id: string;
  /** Familiar name for the event's `name` attribute. */
  name: string;
}

export interface ImageServiceApi {
  /** Pull `ref` (e.g. '127.0.0.1:5000/busybox:latest'); progress goes to `progress`. Leaves nothing half-made on failure. */
  pull(ref: string, opts: { auth?: RegistryAuth; platform?: string; progress: ProgressFn; signal?: AbortSignal }): Promise<ImageRecord>;
  /** Push `name` (with `tag`, or every tag of the repository) to its registry; progress as moby's. */
  push(name: string, opts: { tag?: string; auth?: RegistryAuth; progress: ProgressFn; signal?: AbortSignal }): Promise<unknown>;
  list(): ImageRecord[];
  /** Resolve a reference, 'sha256:<hex>', a full or unique-prefix ID. Throws NotFoundError('No such image: <familiar>'). */
  get(nameOrId: string): ImageRecord;
  /** Add tag `repo:tag` to an image. */
  tag(nameOrId: string, repo: string, tag?: string): void;
  /** Untag/delete. `inUse(imageId)` says whether a container uses it (409 unless force). */
  remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean; inUse: (imageId: string) => { running: boolean; containerId: string } | null }): ImageDeleteItem[];
  /** docker load: a docker-archive (or OCI layout) tarball. Returns the loaded names/IDs messages as it goes. */
  load(tar: Readable, opts: { progress: ProgressFn; quiet?: boolean; signal?: AbortSignal }): Promise<ImageRecord[]>;
  /** docker save: the images as one tarball (OCI layout + docker-archive), streamed. Throws NotFoundError before streaming. */
  save(names: string[]): Promise<Readable>;
  /** docker import: a rootfs tarball (possibly gzip) becomes a one-layer image. */
  import(tar: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string; progress: ProgressFn }): Promise<ImageRecord>;
  /** docker commit: `parent`'s layers plus `layer` (an uncompressed tar) as a new image, tagged repo:tag when given. */
  commit(
    parent: string,
    layer: Readable,
    opts: { repo?: string; tag?: string; config: ImageContainerConfig; author?: string; comment?: string; createdBy?: string },
  ): Promise<ImageRecord>;
  /** Lower dirs for an overlay mount of the image's rootfs, topmost layer first. */
  layerDirs(imageId: string): string[];
  /** Subscribe to image events (pull, tag, untag, delete, load, import). */
  onEvent(listener: (e: ImageEvent) => void): void;
}

/** Per-container writable layers on top of an image (overlayfs). */
export interface SnapshotterApi {
  /** Create the container's upper/work dirs (idempotent). */
  prepare(containerId: string, imageId: string): Promise<void>;
  /** Mount the overlay and return the merged rootfs path (idempotent: returns the path if mounted). */
  mount(containerId: string, imageId: string): Promise<string>;
  /** Unmount the container's rootfs (idempotent). */
  unmount(containerId: string): Promise<void>;
  /** Unmount and delete the container's layer dirs (idempotent). */
  remove(containerId: string): Promise<void>;
  /** Every container ID that has snapshot dirs, for the startup scan. */
  list(): Promise<string[]>;
  /** The container's overlay upper dir (what it changed), for diff and commit. */
  upperDir(containerId: string): string;
  /** Bytes in the container's writable layer (SizeRw); 0 when it has none. */
  diffSize(containerId: string): Promise<number>;
}
