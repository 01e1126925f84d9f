// PodSandboxConfig as the CRI front end decodes it (proto-loader: camelCase, int64 as decimal
// strings, enums as names, absent fields undefined), and the pod facts berth derives from it.
import { InvalidParameterError } from '../../errors.js';
import type { DnsConfig } from './resolv-conf.js';
import type { NamespaceMode } from './types.js';

export interface Int64Value {
  value?: string | number;
}

export interface SecurityProfile {
  profileType?: 'RuntimeDefault' | 'Unconfined' | 'Localhost' | number;
  localhostRef?: string;
}

export interface SandboxSecurityContext {
  namespaceOptions?: { network?: NamespaceMode | number; pid?: NamespaceMode | number; ipc?: NamespaceMode | number; targetId?: string };
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: (string | number)[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  seccompProfilePath?: string;
}

export interface PortMappingIn {
  protocol?: 'TCP' | 'UDP' | 'SCTP' | number;
  containerPort?: number;
  hostPort?: number;
  hostIp?: string;
}

export interface PodSandboxConfigIn {
  metadata?: { name?: string; uid?: string; namespace?: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DnsConfig;
  portMappings?: PortMappingIn[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: SandboxSecurityContext;
    sysctls?: Record<string, string>;
  };
}

const MODES: NamespaceMode[] = ['POD', 'CONTAINER', 'NODE', 'TARGET'];

/** An enum as proto-loader gives it (a name, or a number for values it does not know). */
export function namespaceMode(v: NamespaceMode | number | undefined): NamespaceMode {
  if (v === undefined) return 'POD';
  if (typeof v === 'number') return MODES[v] ?? 'POD';
  return MODES.includes(v) ? v : 'POD';
}

export interface PodNamespaces {
  hostNetwork: boolean;
  hostPid: boolean;
  hostIpc: boolean;
  pidMode: NamespaceMode;
}

export function podNamespaces(config: PodSandboxConfigIn): PodNamespaces {
  const ns = config.linux?.securityContext?.namespaceOptions ?? {};
  const network = namespaceMode(ns.network);
  const pid = namespaceMode(ns.pid);
  const ipc = namespaceMode(ns.ipc);
  return {
    hostNetwork: network === 'NODE',
    hostPid: pid === 'NODE',
    hostIpc: ipc === 'NODE',
    // a pod's pid namespace is its own or the host's; CONTAINER/TARGET are container-level modes
    pidMode: pid === 'NODE' ? 'NODE' : 'POD',
  };
}

/** What containerd's RunPodSandbox refuses before it makes anything. */
export function validateSandboxConfig(config: PodSandboxConfigIn | undefined): asserts config is PodSandboxConfigIn & { metadata: { name: string } } {
  if (!config) throw new InvalidParameterError('sandbox config must not be empty');
  const md = config.metadata;
  if (!md || !md.name) throw new InvalidParameterError('sandbox config must include metadata with a name');
  for (const pm of config.portMappings ?? []) {
    const cp = pm.containerPort ?? 0;
    const hp = pm.hostPort ?? 0;
    if (!Number.isInteger(cp) || cp < 1 || cp > 65535) throw new InvalidParameterError(`invalid container port ${cp} in port mapping`);
    if (!Number.isInteger(hp) || hp < 0 || hp > 65535) throw new InvalidParameterError(`invalid host port ${hp} in port mapping`);
  }
  if (config.logDirectory && !config.logDirectory.startsWith('/')) throw new InvalidParameterError(`log directory must be an absolute path: ${config.logDirectory}`);
  // the kernel's limit for a UTS name; and one line, since it is written to the pod's hostname file
  const hostname = config.hostname ?? '';
  if (hostname.length > 64 || !/^[A-Za-z0-9._-]*$/.test(hostname)) throw new InvalidParameterError(`invalid hostname ${JSON.stringify(hostname)}: at most 64 letters, digits, '.', '-' or '_'`);
}

/** containerd's sandbox name (makeSandboxName): what two RunPodSandbox calls must not share. */
export function sandboxName(md: { name?: string; uid?: string; namespace?: string; attempt?: number }): string {
  return ['k8s', 'POD', md.name ?? '', md.namespace ?? '', md.uid ?? '', String(md.attempt ?? 0)].join('_');
}

export function protocolName(p: PortMappingIn['protocol']): 'tcp' | 'udp' | 'sctp' {
  if (p === 'UDP' || p === 1) return 'udp';
  if (p === 'SCTP' || p === 2) return 'sctp';
  return 'tcp';
}
