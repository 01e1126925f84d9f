// The container record the engine keeps: Docker's config.v2.json and hostconfig.json, in our types.
import type { ImageContainerConfig } from '../../images/types.js';
import type { ResourceLimits } from '../../runtime/oci-spec.js';
import type { MountPoint } from '../volumes/model.js';
import type { CriContainerExtras } from './cri-extras.js';

/** Config as Docker's API carries it (api/types/container.Config), after merging the image's defaults. */
export interface ContainerConfig extends ImageContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Image: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
  MaximumRetryCount: number;
}

/** The HostConfig fields berth acts on today; unknown fields the client sent are kept as given. */
export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
  AutoRemove: boolean;
  RestartPolicy: RestartPolicy;
  LogConfig: { Type: string; Config: Record<string, string> };
  Privileged: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  SecurityOpt: string[] | null;
  ReadonlyRootfs: boolean;
  Runtime: string;
  ConsoleSize: [number, number];
  [extra: string]: unknown;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerHealth {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  /** Present when the container has a health check. */
  Health?: ContainerHealth;
  StartedAt: string;
  FinishedAt: string;
}

export interface ContainerRecord {
  id: string;
  /** With the leading slash, as Docker stores it. */
  name: string;
  created: string;
  imageId: string;
  /** The reference the user gave (Config.Image), e.g. 'busybox'. */
  imageRef: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  restartCount: number;
  /** Stopped or killed by a user: restart policies leave it alone (moby's HasBeenManuallyStopped). */
  manuallyStopped?: boolean;
  /** Set while the last start's resolved process command line is known (Path/Args in inspect). */
  path: string;
  args: string[];
  /** Binds, volumes and --mount tmpfs decided at create (moby's MountPoints); absent on older records. */
  mountPoints?: MountPoint[];
  /** Set for the Kubernetes CRI front end's containers (namespace k8s.io): see cri-extras.ts. */
  cri?: CriContainerExtras;
  /** Set with status `removing` by an `rm -v`: a removal the next daemon start finishes takes the volumes too. */
  removeVolumes?: boolean;
  /** A `docker update`'s limits, stored with its HostConfig until the cgroup has them: a daemon killed in between applies them at its next start. */
  pendingLimits?: ResourceLimits;
  /** The name before a rename whose DNS records are not yet changed: the next daemon start changes them. */
  renamedFrom?: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Running, paused or waiting out a restart back-off: moby's IsRunning for most verbs. */
export function isRunning(c: ContainerRecord): boolean {
  return c.state.Status === 'running' || c.state.Status === 'paused' || c.state.Status === 'restarting';
}
