// Engine container records as CRI's Container (ListContainers) and ContainerStatus.
import type { CriContainerExtras } from '../../engine/containers/cri-extras.js';
import { ZERO_TIME, type ContainerRecord } from '../../engine/containers/model.js';
import { criPropagation } from './mounts.js';
import type { ContainerStateName, CriContainer, CriContainerStatus, CriMount, LinuxContainerResources } from './cri-types.js';
import type { CriContainerMeta } from './create-plan.js';

/** An ISO time as CRI's int64 nanoseconds (a decimal string); Docker's zero time is 0. */
export function isoToNs(iso: string | undefined): string {
  if (!iso || iso === ZERO_TIME) return '0';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || ms <= 0) return '0';
  // keep the sub-millisecond digits an RFC 3339 time may carry
  const frac = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const subMs = BigInt((frac.slice(3, 9) + '000000').slice(0, 6));
  return (BigInt(Math.floor(ms)) * 1_000_000n + subMs).toString();
}

/**
 * A start that failed leaves the engine's row `created` with the runtime's error; CRI reports it
 * as containerd does: exited, reason StartError, so kubelet sees the failure and makes a new one.
 */
export function failedStart(c: ContainerRecord): boolean {
  return c.state.Status === 'created' && c.state.Error !== '';
}

export function criState(c: ContainerRecord): ContainerStateName {
  switch (c.state.Status) {
    case 'created':
      return failedStart(c) ? 'CONTAINER_EXITED' : 'CONTAINER_CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'CONTAINER_RUNNING';
    case 'exited':
    case 'dead':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

/** containerd's reasons: Completed for 0, OOMKilled when the kernel said so, Error otherwise. */
export function exitReason(c: ContainerRecord): string {
  if (criState(c) !== 'CONTAINER_EXITED') return '';
  if (failedStart(c)) return 'StartError';
  if (c.state.OOMKilled) return 'OOMKilled';
  return c.state.ExitCode === 0 ? 'Completed' : 'Error';
}

export function criMeta(c: ContainerRecord): CriContainerMeta {
  const meta = (c.cri?.meta ?? {}) as Partial<CriContainerMeta>;
  return {
    name: meta.name ?? c.name.replace(/^\//, ''),
    attempt: meta.attempt ?? 0,
    image: meta.image ?? c.imageRef,
    imageAnnotations: meta.imageAnnotations ?? {},
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    mounts: meta.mounts ?? [],
  };
}

function extras(c: ContainerRecord): CriContainerExtras {
  if (!c.cri) throw new Error(`container ${c.id} is not a CRI container`);
  return c.cri;
}

export function criContainer(c: ContainerRecord): CriContainer {
  const meta = criMeta(c);
  return {
    id: c.id,
    podSandboxId: extras(c).podId,
    metadata: { name: meta.name, attempt: meta.attempt },
    image: { image: meta.image, annotations: meta.imageAnnotations },
    imageRef: c.imageId,
    state: criState(c),
    createdAt: isoToNs(c.created),
    labels: meta.labels,
    annotations: meta.annotations,
    imageId: c.imageId,
  };
}

export function criContainerStatus(c: ContainerRecord): CriContainerStatus {
  const meta = criMeta(c);
  const state = criState(c);
  const mounts: CriMount[] = meta.mounts.map((m) => ({
    containerPath: m.containerPath,
    hostPath: m.hostPath,
    readonly: m.readonly,
    selinuxRelabel: false,
    propagation: criPropagation(m.propagation as Parameters<typeof criPropagation>[0]),
  }));
  return {
    id: c.id,
    metadata: { name: meta.name, attempt: meta.attempt },
    state,
    createdAt: isoToNs(c.created),
    startedAt: isoToNs(c.state.StartedAt),
    finishedAt: state === 'CONTAINER_EXITED' ? isoToNs(c.state.FinishedAt) : '0',
    exitCode: state === 'CONTAINER_EXITED' ? c.state.ExitCode : 0,
    image: { image: meta.image, annotations: meta.imageAnnotations },
    imageRef: c.imageId,
    reason: exitReason(c),
    message: c.state.Error,
    labels: meta.labels,
    annotations: meta.annotations,
    mounts,
    logPath: extras(c).logPath ?? '',
    imageId: c.imageId,
    resources: { linux: criResourcesOf(c) },
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The limits the container runs with (kubelet compares them when it resizes a pod in place). */
export function criResourcesOf(c: ContainerRecord): LinuxContainerResources {
  const hc = c.hostConfig as Record<string, unknown>;
  return {
    cpuPeriod: String(num(hc.CpuPeriod)),
    cpuQuota: String(num(hc.CpuQuota)),
    cpuShares: String(num(hc.CpuShares)),
    memoryLimitInBytes: String(num(hc.Memory)),
    memorySwapLimitInBytes: String(num(hc.MemorySwap)),
    oomScoreAdj: String(c.cri?.oomScoreAdj ?? 0),
    cpusetCpus: typeof hc.CpusetCpus === 'string' ? hc.CpusetCpus : '',
    cpusetMems: typeof hc.CpusetMems === 'string' ? hc.CpusetMems : '',
  };
}
