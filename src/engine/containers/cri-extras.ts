// What a Kubernetes CRI front end asks of a container beyond Docker's Config and HostConfig.
// CRI containers (and pods' infra containers) are ordinary engine containers, so that recovery,
// exits, logs, exec and stats are one code path; this record says where they differ.
import type { BindMount, SpecInput } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from './model.js';

/** containerd keeps Kubernetes' objects in the `k8s.io` namespace, apart from Docker's `moby`. */
export const CRI_NAMESPACE = 'k8s.io';

export interface CriContainerExtras {
  namespace: typeof CRI_NAMESPACE;
  podId: string;
  /** A pod's infra (pause) container, or a workload container of the pod. */
  role: 'sandbox' | 'container';
  /** Absolute path of the CRI log (conmon's k8s-file format is CRI's); its dir is made at start. */
  logPath?: string;
  /** Namespaces joined by path: the pod's netns file, /proc/<infra pid>/ns/{ipc,uts,pid}. */
  join?: { network?: string; ipc?: string; uts?: string; pid?: string };
  /** The pod's files, bound in place of the container's own. */
  etcFiles?: { hosts?: string; resolvConf?: string; hostname?: string };
  /** The pod's /dev/shm (a host tmpfs), shared by its containers with the IPC namespace. */
  shmPath?: string;
  /** CRI mounts, propagation included. */
  mounts?: BindMount[];
  /** A non-empty CRI list replaces Docker's defaults (containerd's rule). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /**
   * CRI's SupplementalGroupsPolicy Strict: the process' groups are its gid and these only, not the
   * memberships the image's /etc/group gives its user.
   */
  strictSupplementalGroups?: number[];
  /** The exact capability set (containerd's rules: privileged and ALL mean the daemon's own set). */
  capabilities?: string[];
  /** The process' oom_score_adj, already raised to what this host lets the daemon give. */
  oomScoreAdj?: number;
  /** cgroupfs parent from the pod's config; berth's own when empty. */
  cgroupParent?: string;
  /** The front end's own facts (CRI metadata, annotations, config): the engine does not read them. */
  meta?: Record<string, unknown>;
}

/** Docker API views (lists, name lookups, events, prune) leave CRI's containers out. */
export function isDockerVisible(c: ContainerRecord): boolean {
  return c.cri === undefined;
}

/** The spec input after CRI's differences; Docker's containers pass through unchanged. */
export function applyCriExtras(input: SpecInput, cri: CriContainerExtras | undefined): SpecInput {
  if (!cri) return input;
  const join = cri.join ?? {};
  const binds = [...input.binds, ...(cri.mounts ?? [])];
  if (cri.shmPath) binds.push({ source: cri.shmPath, destination: '/dev/shm', readonly: false });
  return {
    ...input,
    network: join.network ? { mode: 'path', path: join.network } : input.network,
    namespacePaths: { ...input.namespacePaths, ...(join.ipc ? { ipc: join.ipc } : {}), ...(join.pid ? { pid: join.pid } : {}), ...(join.uts ? { uts: join.uts } : {}) },
    etcFiles: { ...input.etcFiles, ...(cri.etcFiles ?? {}) },
    binds,
    maskedPaths: cri.maskedPaths?.length ? cri.maskedPaths : input.maskedPaths,
    readonlyPaths: cri.readonlyPaths?.length ? cri.readonlyPaths : input.readonlyPaths,
    oomScoreAdj: cri.oomScoreAdj ?? input.oomScoreAdj,
    capabilities: cri.capabilities ?? input.capabilities,
    user: cri.strictSupplementalGroups
      ? { ...input.user, additionalGids: [...new Set([input.user.gid, ...cri.strictSupplementalGroups])] }
      : input.user,
    // containerd sets neither (critest's "dropping capability" needs ping to fail without NET_RAW)
    dockerSysctls: false,
  };
}
