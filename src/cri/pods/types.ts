// The pod sandbox view the rest of the CRI front end codes against
// (crictr joins a pod's namespaces and binds its etc files; stream finds
// the infra pid for PortForward). The store behind it is src/cri/pods/.

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface PodInfo {
  id: string; name: string; uid: string; namespace: string; attempt: number;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAtNs: string;                // decimal string
  labels: Record<string, string>; annotations: Record<string, string>;
  runtimeHandler: string;             // '' = default
  infraContainerId: string;           // the engine container running the pause process
  hostNetwork: boolean; hostIpc: boolean; hostPid: boolean;   // pod-level NODE modes
  pidMode: NamespaceMode;             // the pod's pid mode (POD = containers join the infra's pid ns by default)
  netnsPath?: string;                 // the pod's netns (a bind-mounted file), absent for host network
  ip?: string; additionalIps: string[];
  hostname: string;
  etc: { hosts: string; resolvConf: string; hostname: string };  // host files to bind into every container of the pod
  shmPath?: string;                   // the pod's /dev/shm (a host tmpfs) for shared IPC
  logDirectory?: string;
  cgroupParent: string;
  sysctls: Record<string, string>;
  securityContext: unknown;           // the decoded LinuxSandboxSecurityContext, for containers that inherit
}

export interface PodSandboxes {
  get(id: string): PodInfo;           // NotFoundError when absent (id or unique prefix)
  find(id: string): PodInfo | undefined;
  list(): PodInfo[];
  infraPid(id: string): number;       // 0 when not running; containers join /proc/<pid>/ns/{ipc,uts,pid} of it
}
