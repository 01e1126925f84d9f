// PodInfo -> the CRI messages that show a pod (PodSandboxStatus, PodSandbox).
import type { PodInfo } from './types.js';

function metadata(p: PodInfo) {
  return { name: p.name, uid: p.uid, namespace: p.namespace, attempt: p.attempt };
}

export function podSandboxStatus(p: PodInfo) {
  return {
    id: p.id,
    metadata: metadata(p),
    state: p.state,
    createdAt: p.createdAtNs,
    network: { ip: p.ip ?? '', additionalIps: p.additionalIps.map((ip) => ({ ip })) },
    linux: {
      namespaces: {
        options: {
          network: p.hostNetwork ? 'NODE' : 'POD',
          pid: p.hostPid ? 'NODE' : 'POD',
          ipc: p.hostIpc ? 'NODE' : 'POD',
        },
      },
    },
    labels: p.labels,
    annotations: p.annotations,
    runtimeHandler: p.runtimeHandler,
  };
}

export function podSandboxListItem(p: PodInfo) {
  return {
    id: p.id,
    metadata: metadata(p),
    state: p.state,
    createdAt: p.createdAtNs,
    labels: p.labels,
    annotations: p.annotations,
    runtimeHandler: p.runtimeHandler,
  };
}

/** PodSandboxStatus(verbose)'s `info`: containerd answers one JSON document under "info". */
export function verboseInfo(p: PodInfo, extra: { pid: number; image: string; runtime: string; config: unknown }): Record<string, string> {
  return {
    info: JSON.stringify({
      pid: extra.pid,
      processStatus: p.state === 'SANDBOX_READY' ? 'running' : 'stopped',
      netNamespacePath: p.netnsPath ?? '',
      infraContainerId: p.infraContainerId,
      image: extra.image,
      runtimeHandler: p.runtimeHandler,
      runtime: extra.runtime,
      config: extra.config,
    }),
  };
}
