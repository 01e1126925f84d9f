// ContainerStats / ListContainerStats from the container's cgroup (the same reader as
// `docker stats`) and its writable layer: CPU as cumulative core-nanoseconds, memory as the
// working set (usage minus inactive file pages, as cAdvisor and containerd count it).
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { readCgroupStats, type CgroupStats } from '../../runtime/cgroup-stats.js';
import { cgroupsPathFor } from '../../runtime/oci-spec.js';
import { criMeta } from './status.js';

const u64 = (n: number) => ({ value: String(Math.max(0, Math.round(n))) });

export function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

/** Working set: usage less the inactive file cache, never below zero. */
export function workingSetBytes(mem: CgroupStats['memory']): number {
  const inactive = mem.stats.total_inactive_file ?? mem.stats.inactive_file ?? 0;
  return Math.max(0, mem.usage - inactive);
}

export interface CriContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number }; labels: Record<string, string>; annotations: Record<string, string> };
  cpu: { timestamp: string; usageCoreNanoSeconds?: { value: string } };
  memory: { timestamp: string; workingSetBytes?: { value: string }; usageBytes?: { value: string } };
  writableLayer: { timestamp: string; fsId: { mountpoint: string }; usedBytes: { value: string } };
}

export async function containerStats(engine: Engine, c: ContainerRecord): Promise<CriContainerStats> {
  const meta = criMeta(c);
  const timestamp = nowNs();
  let raw: CgroupStats | undefined;
  if (c.state.Status === 'running' || c.state.Status === 'paused') {
    try {
      raw = await readCgroupStats(cgroupsPathFor(c.id, c.cri?.cgroupParent || undefined));
    } catch {
      raw = undefined; // exited meanwhile: its cgroup is gone
    }
  }
  let used = 0;
  try {
    used = await engine.containers.deps.snapshots.diffSize(c.id);
  } catch {
    used = 0;
  }
  return {
    attributes: { id: c.id, metadata: { name: meta.name, attempt: meta.attempt }, labels: meta.labels, annotations: meta.annotations },
    cpu: { timestamp, ...(raw ? { usageCoreNanoSeconds: u64(raw.cpu.totalUsage) } : {}) },
    memory: { timestamp, ...(raw ? { workingSetBytes: u64(workingSetBytes(raw.memory)), usageBytes: u64(raw.memory.usage) } : {}) },
    writableLayer: { timestamp, fsId: { mountpoint: engine.config.dataRoot }, usedBytes: u64(used) },
  };
}
