// CreateContainer's mapping: a CRI ContainerConfig in a pod -> the engine's create body (Docker's
// Config and HostConfig vocabulary, where it has the words) plus the CRI extras it lacks. Pure:
// the handler does the lookups (image, pod, infra pid, host paths, profile file) first.
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors.js';
import type { CriContainerExtras } from '../../engine/containers/cri-extras.js';
import { CRI_NAMESPACE } from '../../engine/containers/cri-extras.js';
import type { BindMount } from '../../runtime/oci-spec.js';
import type { PodInfo } from '../pods/types.js';
import { processArgs } from './command.js';
import type { ContainerConfig } from './cri-types.js';
import { criContainerName } from './names.js';
import { clampOomScoreAdj, criResources } from './resources.js';
import { criSecurity, type SeccompChoice } from './security.js';

/** What the front end keeps in `cri.meta` for Status and List (the engine never reads it). */
export interface CriContainerMeta {
  name: string;
  attempt: number;
  /** The image as the client named it, and its annotations. */
  image: string;
  imageAnnotations: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The CRI mounts as asked, host paths resolved, for ContainerStatus. */
  mounts: { containerPath: string; hostPath: string; readonly: boolean; propagation: string }[];
}

export interface CreatePlanInput {
  config: ContainerConfig;
  pod: PodInfo;
  /** The pause process' pid: the pod's IPC, UTS and PID namespaces are its. */
  infraPid: number;
  /** pid of the TARGET container, when namespace_options.pid is TARGET. */
  targetPid?: number;
  image: { id: string; name: string; config: { Entrypoint?: string[] | null; Cmd?: string[] | null } };
  /** CRI mounts with their host paths already resolved (resolveHostPath). */
  binds: BindMount[];
  /** The Localhost seccomp profile's JSON, read by the caller. */
  seccompProfile?: string;
  /** The daemon's own oom_score_adj: the floor for the container's. */
  oomScoreAdjFloor: number;
}

export interface CreatePlan {
  name: string;
  body: { [key: string]: unknown; HostConfig: Record<string, unknown> };
  cri: CriContainerExtras;
}

function seccompOpt(choice: SeccompChoice, profile: string | undefined): string[] {
  switch (choice.kind) {
    case 'unconfined':
      return ['seccomp=unconfined'];
    case 'runtime-default':
      return [];
    case 'localhost':
      if (profile === undefined) throw new InvalidParameterError(`seccomp profile ${choice.path} was not read`);
      return [`seccomp=${profile}`];
  }
}

const podPrivileged = (pod: PodInfo) => (pod.securityContext as { privileged?: boolean } | undefined)?.privileged === true;

export function createPlan(input: CreatePlanInput): CreatePlan {
  const { config, pod } = input;
  const name = criContainerName(config.metadata, pod);
  const linux = config.linux ?? {};
  const sc = linux.securityContext ?? {};
  const sec = criSecurity(sc, podPrivileged(pod));
  const argv = processArgs(config.command, config.args, input.image.config);
  const res = criResources(linux.resources);
  const ns = sc.namespaceOptions ?? {};
  if (config.workingDir && !config.workingDir.startsWith('/')) {
    throw new InvalidParameterError(`working dir ${JSON.stringify(config.workingDir)} must be an absolute path`);
  }

  // Namespaces: the pod's network, IPC and UTS; PID as asked (POD = the pause process').
  const hostNetwork = pod.hostNetwork || ns.network === 'NODE';
  const hostIpc = pod.hostIpc || ns.ipc === 'NODE';
  const pidMode = ns.pid ?? 'POD';
  const hostPid = pidMode === 'NODE' || (pidMode === 'POD' && pod.hostPid);
  const needsInfra = !hostNetwork || !hostIpc || (pidMode === 'POD' && !hostPid);
  if (needsInfra && input.infraPid <= 0) throw new InvalidParameterError(`sandbox container of pod ${pod.id} is not running`);
  const procNs = (kind: string) => `/proc/${input.infraPid}/ns/${kind}`;
  const join: NonNullable<CriContainerExtras['join']> = {};
  if (!hostNetwork) {
    join.network = pod.netnsPath || procNs('net');
    join.uts = procNs('uts');
  }
  if (!hostIpc) join.ipc = procNs('ipc');
  if (pidMode === 'TARGET') {
    if (!input.targetPid) throw new InvalidParameterError(`target container ${ns.targetId ?? ''} of the PID namespace is not running`);
    join.pid = `/proc/${input.targetPid}/ns/pid`;
  } else if (pidMode === 'POD' && !hostPid) {
    join.pid = procNs('pid');
  }

  const envs = (config.envs ?? []).filter((kv) => kv.key).map((kv) => `${kv.key}=${kv.value ?? ''}`);
  const securityOpt = [...seccompOpt(sec.seccomp, input.seccompProfile)];
  if (sec.noNewPrivileges) securityOpt.push('no-new-privileges');
  const devices = (config.devices ?? []).map((d) => ({
    PathOnHost: d.hostPath ?? '',
    PathInContainer: d.containerPath || d.hostPath || '',
    CgroupPermissions: d.permissions || 'rwm',
  }));

  const hostConfig: Record<string, unknown> = {
    NetworkMode: hostNetwork ? 'host' : 'none',
    IpcMode: hostIpc ? 'host' : '',
    PidMode: hostPid ? 'host' : '',
    UTSMode: hostNetwork ? 'host' : '',
    Privileged: sec.privileged,
    ReadonlyRootfs: sec.readonlyRootfs,
    SecurityOpt: securityOpt,
    GroupAdd: sec.supplementalGroups.map(String),
    Devices: devices,
    Runtime: pod.runtimeHandler || '',
    ...res,
  };
  const logPath = pod.logDirectory && config.logPath ? posix.join(pod.logDirectory, config.logPath) : undefined;
  if (logPath && !logPath.startsWith('/')) throw new InvalidParameterError(`log path ${JSON.stringify(logPath)} must be absolute`);
  const meta: CriContainerMeta = {
    name: config.metadata?.name ?? '',
    attempt: config.metadata?.attempt ?? 0,
    image: config.image?.image ?? input.image.name,
    imageAnnotations: { ...(config.image?.annotations ?? {}) },
    labels: { ...(config.labels ?? {}) },
    annotations: { ...(config.annotations ?? {}) },
    mounts: input.binds.map((b) => ({ containerPath: b.destination, hostPath: b.source, readonly: b.readonly, propagation: b.propagation ?? 'rprivate' })),
  };
  const cri: CriContainerExtras = {
    namespace: CRI_NAMESPACE,
    podId: pod.id,
    role: 'container',
    logPath,
    join,
    etcFiles: Object.fromEntries(Object.entries(pod.etc ?? {}).filter(([, v]) => v)),
    shmPath: hostIpc ? undefined : pod.shmPath,
    mounts: input.binds,
    maskedPaths: sec.maskedPaths,
    readonlyPaths: sec.readonlyPaths,
    ...(sec.capabilities ? { capabilities: sec.capabilities } : {}),
    ...(sec.strictGroups ? { strictSupplementalGroups: sec.supplementalGroups } : {}),
    oomScoreAdj: clampOomScoreAdj(linux.resources?.oomScoreAdj, input.oomScoreAdjFloor),
    cgroupParent: pod.cgroupParent || undefined,
    meta: meta as unknown as Record<string, unknown>,
  };
  return {
    name,
    body: {
      Image: input.image.id,
      Entrypoint: argv.entrypoint,
      Cmd: argv.cmd,
      Env: envs,
      WorkingDir: config.workingDir ?? '',
      User: sec.user,
      Hostname: pod.hostname,
      ...(config.stopSignal && config.stopSignal !== 'RUNTIME_DEFAULT' ? { StopSignal: config.stopSignal } : {}),
      Tty: config.tty === true,
      OpenStdin: config.stdin === true,
      StdinOnce: config.stdinOnce === true,
      AttachStdin: config.stdin === true,
      AttachStdout: true,
      AttachStderr: !config.tty,
      HostConfig: hostConfig,
    },
    cri,
  };
}
