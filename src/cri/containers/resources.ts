// CRI LinuxContainerResources in Docker's HostConfig vocabulary (which the start path and
// `runc update` already apply), with containerd's rules: swap defaults to the memory limit
// (no swap unless asked), and oom_score_adj is raised to the daemon's own, as containerd's
// restrict_oom_score_adj does, since a lower one needs CAP_SYS_RESOURCE (this host has none).
import { readFileSync } from 'node:fs';
import { InvalidParameterError } from '../../errors.js';
import type { Int64, LinuxContainerResources } from './cri-types.js';

export interface CriResources {
  CpuPeriod: number;
  CpuQuota: number;
  CpuShares: number;
  Memory: number;
  MemorySwap: number;
  CpusetCpus: string;
  CpusetMems: string;
}

function int(v: Int64 | undefined, field: string): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidParameterError(`${field}: ${String(v)} is not an integer`);
  return n;
}

export function criResources(r: LinuxContainerResources | undefined): CriResources {
  const res = r ?? {};
  const memory = int(res.memoryLimitInBytes, 'memory_limit_in_bytes');
  const swap = int(res.memorySwapLimitInBytes, 'memory_swap_limit_in_bytes');
  if (memory < 0) throw new InvalidParameterError('memory_limit_in_bytes must not be negative');
  return {
    CpuPeriod: int(res.cpuPeriod, 'cpu_period'),
    CpuQuota: int(res.cpuQuota, 'cpu_quota'),
    CpuShares: int(res.cpuShares, 'cpu_shares'),
    Memory: memory,
    MemorySwap: swap !== 0 ? swap : memory,
    CpusetCpus: res.cpusetCpus ?? '',
    CpusetMems: res.cpusetMems ?? '',
  };
}

let ownOomScoreAdj: number | undefined;

/** This daemon's /proc/self/oom_score_adj, read once. */
export function daemonOomScoreAdj(): number {
  if (ownOomScoreAdj === undefined) {
    try {
      ownOomScoreAdj = Number.parseInt(readFileSync('/proc/self/oom_score_adj', 'utf8'), 10) || 0;
    } catch {
      ownOomScoreAdj = 0;
    }
  }
  return ownOomScoreAdj;
}

/** The oom_score_adj to give the container: the requested one, never below `floor`. */
export function clampOomScoreAdj(requested: Int64 | undefined, floor: number): number {
  const n = int(requested, 'oom_score_adj');
  if (n < -1000 || n > 1000) throw new InvalidParameterError(`oom_score_adj ${n} is outside -1000..1000`);
  return Math.max(n, floor);
}
