// The pod's infra (pause) container as an engine container: the Docker-shaped create body and
// the CRI extras. Its network is the engine's own, on the CRI pod network, so netns, addresses,
// hostPort forwards (127.0.0.1 included), teardown at exit and recovery are the code Docker's
// containers use; its IPC namespace is `shareable` (a host tmpfs /dev/shm the pod's containers
// bind); its pid namespace is the one POD-mode containers join.
import type { CriContainerExtras } from '../../engine/containers/cri-extras.js';
import { CRI_NAMESPACE } from '../../engine/containers/cri-extras.js';
import { podNamespaces, protocolName, type PodSandboxConfigIn } from './sandbox-config.js';

export interface InfraPlanInput {
  podId: string;
  config: PodSandboxConfigIn;
  image: string;
  /** The engine runtime name ('' never: resolved by the caller). */
  runtime: string;
  oomScoreAdj: number;
  /** The CRI pod network's name. */
  network: string;
  hostname: string;
  /** The pod's files (hostname, hosts, resolv.conf) on the host. */
  etc: { hostname: string; hosts: string; resolvConf: string };
  /** The JSON text of a Localhost seccomp profile, read by the caller. */
  seccompProfile?: string;
}

export interface InfraPlan {
  body: { [key: string]: unknown; HostConfig: Record<string, unknown> };
  extras: CriContainerExtras;
}

export function planInfraContainer(i: InfraPlanInput): InfraPlan {
  const ns = podNamespaces(i.config);
  const sc = i.config.linux?.securityContext ?? {};
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const exposed: Record<string, object> = {};
  if (!ns.hostNetwork) {
    // containerd hands only mappings with a host port to the portmap plugin
    for (const pm of i.config.portMappings ?? []) {
      if (!pm.hostPort) continue;
      const key = `${pm.containerPort}/${protocolName(pm.protocol)}`;
      exposed[key] = {};
      (portBindings[key] ??= []).push({ HostIp: pm.hostIp ?? '', HostPort: String(pm.hostPort) });
    }
  }
  const securityOpt: string[] = [];
  const profile = sc.seccomp?.profileType;
  // CRI's presence rule: no profile at all is unconfined
  if (!sc.seccomp || profile === 'Unconfined' || profile === 1) securityOpt.push('seccomp=unconfined');
  else if ((profile === 'Localhost' || profile === 2) && i.seccompProfile) securityOpt.push(`seccomp=${i.seccompProfile}`);
  const user = sc.runAsUser?.value !== undefined ? `${sc.runAsUser.value}${sc.runAsGroup?.value !== undefined ? `:${sc.runAsGroup.value}` : ''}` : undefined;
  const hostConfig: Record<string, unknown> = {
    NetworkMode: ns.hostNetwork ? 'host' : i.network,
    PortBindings: portBindings,
    IpcMode: ns.hostIpc ? 'host' : 'shareable',
    PidMode: ns.hostPid ? 'host' : '',
    ...(ns.hostNetwork ? { UTSMode: 'host' } : {}),
    Sysctls: { ...(i.config.linux?.sysctls ?? {}) },
    OomScoreAdj: i.oomScoreAdj,
    Runtime: i.runtime,
    ReadonlyRootfs: sc.readonlyRootfs === true,
    GroupAdd: (sc.supplementalGroups ?? []).map(String),
    SecurityOpt: securityOpt,
  };
  const body = {
    Image: i.image,
    ...(ns.hostNetwork ? {} : { Hostname: i.hostname }),
    ...(user ? { User: user } : {}),
    ExposedPorts: exposed,
    Labels: { 'io.kubernetes.cri.kind': 'sandbox', 'io.kubernetes.cri.sandbox-id': i.podId },
    HostConfig: hostConfig,
  };
  const extras: CriContainerExtras = {
    namespace: CRI_NAMESPACE,
    podId: i.podId,
    role: 'sandbox',
    etcFiles: ns.hostNetwork ? { hosts: i.etc.hosts, resolvConf: i.etc.resolvConf } : { ...i.etc },
    ...(i.config.linux?.cgroupParent ? { cgroupParent: i.config.linux.cgroupParent } : {}),
  };
  return { body, extras };
}
