// The CRI v1 messages this folder reads and writes, as @grpc/proto-loader decodes them with
// {keepCase:false, longs:String, enums:String, defaults:false, oneofs:true}: camelCase fields,
// int64 as decimal strings, enums by name, and an unset field absent (presence matters for
// seccomp and the Int64Value wrappers).

export type Int64 = string | number;

export interface KeyValue {
  key?: string;
  value?: string;
}

export interface ContainerMetadata {
  name?: string;
  attempt?: number;
}

export interface ImageSpec {
  image?: string;
  annotations?: Record<string, string>;
  userSpecifiedImage?: string;
  runtimeHandler?: string;
}

export type MountPropagationName = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';

export interface CriMount {
  containerPath?: string;
  hostPath?: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagationName;
  recursiveReadOnly?: boolean;
}

export interface CriDevice {
  containerPath?: string;
  hostPath?: string;
  permissions?: string;
}

export interface HugepageLimit {
  pageSize?: string;
  limit?: Int64;
}

export interface LinuxContainerResources {
  cpuPeriod?: Int64;
  cpuQuota?: Int64;
  cpuShares?: Int64;
  memoryLimitInBytes?: Int64;
  oomScoreAdj?: Int64;
  cpusetCpus?: string;
  cpusetMems?: string;
  hugepageLimits?: HugepageLimit[];
  unified?: Record<string, string>;
  memorySwapLimitInBytes?: Int64;
}

export type NamespaceModeName = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface NamespaceOption {
  network?: NamespaceModeName;
  pid?: NamespaceModeName;
  ipc?: NamespaceModeName;
  targetId?: string;
}

export interface SecurityProfile {
  profileType?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostRef?: string;
}

export interface LinuxContainerSecurityContext {
  capabilities?: { addCapabilities?: string[]; dropCapabilities?: string[]; addAmbientCapabilities?: string[] };
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: { value?: Int64 };
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: Int64[];
  apparmorProfile?: string;
  seccompProfilePath?: string;
  noNewPrivs?: boolean;
  runAsGroup?: { value?: Int64 };
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
  supplementalGroupsPolicy?: 'Merge' | 'Strict';
}

export interface ContainerConfig {
  metadata?: ContainerMetadata;
  image?: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: CriMount[];
  devices?: CriDevice[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
  /** A signal's name; RUNTIME_DEFAULT (the zero) = the image's STOPSIGNAL, else SIGTERM. */
  stopSignal?: string;
}

export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerFilter {
  id?: string;
  state?: { state?: ContainerStateName };
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface ContainerStatsFilter {
  id?: string;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

/** One entry of ListContainers. */
export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: ContainerStateName;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  imageId: string;
}

export interface CriContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerStateName;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: CriMount[];
  logPath: string;
  imageId: string;
  resources: { linux: LinuxContainerResources };
}
