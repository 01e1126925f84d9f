// The OCI LinuxResources document `runc update -r -` takes, from berth's ResourceLimits.
// Only limits that are set go in: runc keeps every field the document leaves out, which is
// Docker's update semantics (a zero in the update body means "unchanged").
import type { ResourceLimits } from './oci-spec.js';

export interface OciResourcesUpdate {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight: number };
}

/** Docker's CFS period when the limit is given as NanoCpus. */
const NANO_CPU_PERIOD = 100000;

export function ociResourcesUpdate(r: ResourceLimits): OciResourcesUpdate {
  const out: OciResourcesUpdate = {};
  const memory: NonNullable<OciResourcesUpdate['memory']> = {};
  if (r.memory) memory.limit = r.memory;
  if (r.memoryReservation) memory.reservation = r.memoryReservation;
  if (r.memorySwap) memory.swap = r.memorySwap;
  if (Object.keys(memory).length) out.memory = memory;

  const cpu: NonNullable<OciResourcesUpdate['cpu']> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.nanoCpus) {
    cpu.period = NANO_CPU_PERIOD;
    cpu.quota = Math.floor((r.nanoCpus * NANO_CPU_PERIOD) / 1e9);
  } else {
    if (r.cpuPeriod) cpu.period = r.cpuPeriod;
    if (r.cpuQuota) cpu.quota = r.cpuQuota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;

  // Docker: a limit <= 0 is "unlimited"; runc writes `max` for -1 and leaves 0 alone.
  if (r.pidsLimit !== undefined && r.pidsLimit !== 0) out.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}
