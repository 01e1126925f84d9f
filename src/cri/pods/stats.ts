// PodSandboxStats / ListPodSandboxStats (kubelet's CRI stats provider): the pod's containers'
// stats as ContainerStats reports them, their sum (and the infra container's) as the pod's cpu
// and memory, and the interface counters of the pod's network namespace.
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { readNetworkStats } from '../../engine/monitoring/net-dev.js';
import { readCgroupStats } from '../../runtime/cgroup-stats.js';
import { cgroupsPathFor } from '../../runtime/oci-spec.js';
import { containerStats, nowNs, workingSetBytes } from '../containers/stats.js';
import type { PodInfo } from './types.js';

const u64 = (n: number) => ({ value: String(Math.max(0, Math.round(n))) });

export interface PodStatsFilter {
  id?: string;
  labelSelector?: Record<string, string>;
}

export function matchesStatsFilter(p: PodInfo, f: PodStatsFilter | undefined): boolean {
  if (f?.id && !p.id.startsWith(f.id)) return false;
  for (const [k, v] of Object.entries(f?.labelSelector ?? {})) if (p.labels[k] !== v) return false;
  return true;
}

function running(c: ContainerRecord): boolean {
  return c.state.Status === 'running' || c.state.Status === 'paused';
}

export async function podSandboxStats(engine: Engine, p: PodInfo, infraPid: number) {
  const timestamp = nowNs();
  const members = engine.containers.listCri().filter((c) => c.cri?.podId === p.id);
  const workloads = members.filter((c) => c.cri?.role !== 'sandbox');
  let cpu = 0;
  let workingSet = 0;
  let usage = 0;
  for (const c of members.filter(running)) {
    try {
      const raw = await readCgroupStats(cgroupsPathFor(c.id, c.cri?.cgroupParent || undefined));
      cpu += raw.cpu.totalUsage;
      workingSet += workingSetBytes(raw.memory);
      usage += raw.memory.usage;
    } catch {
      // exited meanwhile: its cgroup is gone
    }
  }
  const net = p.hostNetwork ? undefined : await readNetworkStats(infraPid);
  const interfaces = Object.entries(net ?? {}).map(([name, s]) => ({ name, rxBytes: u64(s.rx_bytes), rxErrors: u64(s.rx_errors), txBytes: u64(s.tx_bytes), txErrors: u64(s.tx_errors) }));
  return {
    attributes: { id: p.id, metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: p.attempt }, labels: p.labels, annotations: p.annotations },
    linux: {
      cpu: { timestamp, usageCoreNanoSeconds: u64(cpu) },
      memory: { timestamp, workingSetBytes: u64(workingSet), usageBytes: u64(usage) },
      ...(interfaces.length ? { network: { timestamp, defaultInterface: interfaces.find((i) => i.name === 'eth0') ?? interfaces[0], interfaces } } : {}),
      containers: await Promise.all(workloads.map((c) => containerStats(engine, c))),
    },
  };
}
