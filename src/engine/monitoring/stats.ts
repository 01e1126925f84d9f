// Container stats in Docker's StatsJSON shape (moby daemon/stats*.go): one read of the cgroup
// per second, precpu/preread from the previous read.
import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCgroupStats, readSystemCpu, type BlkioEntry, type CgroupStats } from '../../runtime/cgroup-stats.js';
import { cgroupsPathFor } from '../../runtime/oci-spec.js';
import { ZERO_TIME, type ContainerRecord } from '../containers/model.js';
import type { ContainerService } from '../containers/service.js';
import { readNetworkStats, type NetworkStats } from './net-dev.js';

const INTERVAL_MS = 1000;

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJson {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  /** Per interface of the container's network namespace; absent for `host` and `none`, as moby's omitempty. */
  networks?: Record<string, NetworkStats>;
  name: string;
  id: string;
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
];

/** What moby publishes for a container that is not running: only name and ID are set. */
export function emptyStats(c: ContainerRecord): StatsJson {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpu(),
    precpu_stats: emptyCpu(),
    memory_stats: {},
    name: c.name,
    id: c.id,
  };
}

/** Go's omitempty for numbers. */
const nz = (n: number | undefined) => (n ? n : undefined);

/** Docker's shape from one cgroup read; `machineMemory` caps an unlimited limit, as moby does. */
export function toStatsJson(
  c: ContainerRecord,
  raw: CgroupStats,
  system: { systemUsage: number; onlineCpus: number },
  read: Date,
  prev: { read: string; cpu: CpuStats } | undefined,
  machineMemory: number,
): StatsJson {
  const cpu: CpuStats = {
    cpu_usage: {
      total_usage: raw.cpu.totalUsage,
      ...(raw.cpu.percpuUsage?.length ? { percpu_usage: raw.cpu.percpuUsage } : {}),
      usage_in_kernelmode: raw.cpu.kernelMode,
      usage_in_usermode: raw.cpu.userMode,
    },
    system_cpu_usage: nz(system.systemUsage),
    online_cpus: nz(system.onlineCpus),
    throttling_data: {
      periods: raw.cpu.throttling.periods,
      throttled_periods: raw.cpu.throttling.throttledPeriods,
      throttled_time: raw.cpu.throttling.throttledTime,
    },
  };
  const limit = machineMemory > 0 && raw.memory.limit > machineMemory ? machineMemory : raw.memory.limit;
  const blkio: Record<string, BlkioEntry[] | null> = Object.fromEntries(BLKIO_KEYS.map((k) => [k, null]));
  blkio.io_service_bytes_recursive = raw.blkio.serviceBytes.length ? raw.blkio.serviceBytes : null;
  if (raw.version === 1) blkio.io_serviced_recursive = raw.blkio.serviced.length ? raw.blkio.serviced : null;
  return {
    read: read.toISOString(),
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: { current: nz(raw.pids.current), limit: nz(raw.pids.limit) },
    blkio_stats: blkio,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: prev?.cpu ?? emptyCpu(),
    memory_stats: {
      usage: nz(raw.memory.usage),
      max_usage: nz(raw.memory.maxUsage),
      stats: Object.keys(raw.memory.stats).length ? raw.memory.stats : undefined,
      failcnt: nz(raw.memory.failcnt),
      limit: nz(limit),
    },
    name: c.name,
    id: c.id,
  };
}

/**
 * The container's network counters: those of the namespace it runs in (a `container:` mode
 * container's are its donor's, as moby's getNetworkSandboxID follows the chain); none for
 * `host` (the host's interfaces are not the container's) and `none` (lo only).
 */
async function networkStats(svc: ContainerService, c: ContainerRecord): Promise<Record<string, NetworkStats> | undefined> {
  let owner = c;
  for (let hops = 0; owner.hostConfig.NetworkMode.startsWith('container:'); hops++) {
    if (hops > 8) return undefined;
    try {
      owner = svc.get(owner.hostConfig.NetworkMode.slice('container:'.length));
    } catch {
      return undefined;
    }
  }
  const mode = owner.hostConfig.NetworkMode;
  if (mode === 'host' || mode === 'none') return undefined;
  if (owner.state.Status !== 'running' && owner.state.Status !== 'paused') return undefined;
  return readNetworkStats(owner.state.Pid);
}

async function sample(svc: ContainerService, c: ContainerRecord, prev: StatsJson | undefined): Promise<StatsJson> {
  if (c.state.Status !== 'running' && c.state.Status !== 'paused') return emptyStats(c);
  let raw: CgroupStats;
  let system: { systemUsage: number; onlineCpus: number };
  let networks: Record<string, NetworkStats> | undefined;
  try {
    [raw, system, networks] = await Promise.all([readCgroupStats(cgroupsPathFor(c.id, c.cri?.cgroupParent || undefined)), readSystemCpu(), networkStats(svc, c)]);
  } catch {
    return emptyStats(c);
  }
  const previous = prev && prev.read !== ZERO_TIME ? { read: prev.read, cpu: prev.cpu_stats } : undefined;
  const s = toStatsJson(c, raw, system, new Date(), previous, totalmem());
  return networks ? withNetworks(s, networks) : s;
}

/** `networks` after memory_stats, where moby's StatsResponse has it. */
function withNetworks(s: StatsJson, networks: Record<string, NetworkStats>): StatsJson {
  const { name, id, ...rest } = s;
  return { ...rest, networks, name, id };
}

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  signal: AbortSignal;
}

/**
 * The stats objects GET /containers/{id}/stats sends. Looks the container up at once (a 404
 * before any header); the stream ends when the container is removed or `signal` aborts.
 */
export function containerStats(svc: ContainerService, ref: string, opts: StatsOptions): AsyncIterable<StatsJson> {
  const c = svc.get(ref);
  return (async function* () {
    const running = () => c.state.Status === 'running' || c.state.Status === 'paused';
    if (!opts.stream) {
      if (!running()) {
        yield emptyStats(c);
        return;
      }
      if (opts.oneShot) {
        yield await sample(svc, c, undefined);
        return;
      }
      // moby primes the CPU figures with a first read so precpu is real.
      const first = await sample(svc, c, undefined);
      await sleep(INTERVAL_MS, undefined, { signal: opts.signal }).catch(() => undefined);
      if (opts.signal.aborted) return;
      yield await sample(svc, c, first);
      return;
    }
    let prev: StatsJson | undefined;
    while (!opts.signal.aborted && svc.deps.store.get(c.id)) {
      const s = await sample(svc, c, prev);
      prev = s;
      yield s;
      await sleep(INTERVAL_MS, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  })();
}
