// Reads a container's resource usage from its cgroup files, v1 (one hierarchy per controller)
// and v2 (unified), the way containerd's cgroups package does for dockerd's stats collector.
// The parse* functions are pure so they can be tested on fixture files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Raw figures of one read; the engine turns them into Docker's StatsJSON. */
export interface CgroupStats {
  version: 1 | 2;
  cpu: {
    totalUsage: number;
    /** Per-CPU nanoseconds; v1 only (cpuacct.usage_percpu). */
    percpuUsage?: number[];
    kernelMode: number;
    userMode: number;
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    usage: number;
    /** v1 only. */
    maxUsage?: number;
    failcnt?: number;
    limit: number;
    stats: Record<string, number>;
  };
  pids: { current: number; limit: number };
  /** Docker's blkio_stats.io_service_bytes_recursive and io_serviced_recursive. */
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}

/** cgroup v1 reports an unlimited memory limit as this page-aligned maximum. */
const V1_UNLIMITED = 9223372036854771712;
/** USER_HZ: cpuacct.stat counts in these ticks. */
const CLOCK_TICKS = 100;

export const CGROUP_ROOT = '/sys/fs/cgroup';

export function isCgroupV2(root = CGROUP_ROOT): Promise<boolean> {
  return readFile(join(root, 'cgroup.controllers'), 'utf8').then(
    () => true,
    () => false,
  );
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) into a map of numbers. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/** A single number file; `max` (v2's unlimited) becomes `maxValue`. */
export function parseSingle(text: string, maxValue = 0): number {
  const t = text.trim();
  if (t === 'max') return maxValue;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/** blkio.*_recursive (v1): `8:0 Read 4096` lines; the trailing `Total N` line is dropped, as containerd does. */
export function parseBlkioV1(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [maj, min] = f[0]!.split(':');
    if (min === undefined) continue;
    out.push({ major: Number(maj), minor: Number(min), op: f[1]!, value: Number(f[2]) });
  }
  return out;
}

/** io.stat (v2): `8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`; moby reports read/write bytes and ios. */
export function parseIoStatV2(text: string): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    const [maj, min] = f[0]!.split(':');
    if (min === undefined) continue;
    const kv = Object.fromEntries(f.slice(1).map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
    const dev = { major: Number(maj), minor: Number(min) };
    serviceBytes.push({ ...dev, op: 'read', value: kv.rbytes ?? 0 }, { ...dev, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ ...dev, op: 'read', value: kv.rios ?? 0 }, { ...dev, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

/** The files of one v1 read, keyed by `<controller>/<file>`; missing files are absent. */
export type V1Files = Record<string, string | undefined>;

export function statsFromV1(files: V1Files): CgroupStats {
  const num = (k: string) => parseSingle(files[k] ?? '0');
  const acct = parseFlatKeyed(files['cpuacct/cpuacct.stat'] ?? '');
  const cpuStat = parseFlatKeyed(files['cpu/cpu.stat'] ?? '');
  const percpu = (files['cpuacct/cpuacct.usage_percpu'] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  // containerd prefers the CFQ files and falls back to the throttle ones when CFQ is absent or empty.
  const pick = (name: string) => {
    const cfq = parseBlkioV1(files[`blkio/blkio.${name}`] ?? '');
    return cfq.length ? cfq : parseBlkioV1(files[`blkio/blkio.throttle.${name}`] ?? '');
  };
  return {
    version: 1,
    cpu: {
      totalUsage: num('cpuacct/cpuacct.usage'),
      percpuUsage: percpu,
      kernelMode: ((acct.system ?? 0) * 1e9) / CLOCK_TICKS,
      userMode: ((acct.user ?? 0) * 1e9) / CLOCK_TICKS,
      throttling: {
        periods: cpuStat.nr_periods ?? 0,
        throttledPeriods: cpuStat.nr_throttled ?? 0,
        throttledTime: cpuStat.throttled_time ?? 0,
      },
    },
    memory: {
      usage: num('memory/memory.usage_in_bytes'),
      maxUsage: num('memory/memory.max_usage_in_bytes'),
      failcnt: num('memory/memory.failcnt'),
      limit: files['memory/memory.limit_in_bytes'] !== undefined ? num('memory/memory.limit_in_bytes') : V1_UNLIMITED,
      stats: parseFlatKeyed(files['memory/memory.stat'] ?? ''),
    },
    pids: { current: num('pids/pids.current'), limit: parseSingle(files['pids/pids.max'] ?? '0', 0) },
    blkio: { serviceBytes: pick('io_service_bytes_recursive'), serviced: pick('io_serviced_recursive') },
  };
}

/** The files of one v2 read, keyed by file name. */
export type V2Files = Record<string, string | undefined>;

export function statsFromV2(files: V2Files): CgroupStats {
  const cpu = parseFlatKeyed(files['cpu.stat'] ?? '');
  return {
    version: 2,
    cpu: {
      totalUsage: (cpu.usage_usec ?? 0) * 1000,
      kernelMode: (cpu.system_usec ?? 0) * 1000,
      userMode: (cpu.user_usec ?? 0) * 1000,
      throttling: {
        periods: cpu.nr_periods ?? 0,
        throttledPeriods: cpu.nr_throttled ?? 0,
        throttledTime: (cpu.throttled_usec ?? 0) * 1000,
      },
    },
    memory: {
      usage: parseSingle(files['memory.current'] ?? '0'),
      limit: parseSingle(files['memory.max'] ?? 'max', Number.MAX_SAFE_INTEGER),
      stats: parseFlatKeyed(files['memory.stat'] ?? ''),
    },
    pids: { current: parseSingle(files['pids.current'] ?? '0'), limit: parseSingle(files['pids.max'] ?? 'max', 0) },
    blkio: parseIoStatV2(files['io.stat'] ?? ''),
  };
}

const V1_FILES = [
  'cpuacct/cpuacct.usage',
  'cpuacct/cpuacct.usage_percpu',
  'cpuacct/cpuacct.stat',
  'cpu/cpu.stat',
  'memory/memory.usage_in_bytes',
  'memory/memory.max_usage_in_bytes',
  'memory/memory.failcnt',
  'memory/memory.limit_in_bytes',
  'memory/memory.stat',
  'pids/pids.current',
  'pids/pids.max',
  'blkio/blkio.io_service_bytes_recursive',
  'blkio/blkio.io_serviced_recursive',
  'blkio/blkio.throttle.io_service_bytes_recursive',
  'blkio/blkio.throttle.io_serviced_recursive',
];
const V2_FILES = ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'pids.current', 'pids.max', 'io.stat'];

const readOrUndefined = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/**
 * One read of the cgroup at `cgroupsPath` (cgroupfs style, e.g. /berth/<id>). Throws when the
 * cgroup does not exist (the container is not running).
 */
export async function readCgroupStats(cgroupsPath: string, root = CGROUP_ROOT): Promise<CgroupStats> {
  const rel = cgroupsPath.replace(/^\/+/, '');
  if (await isCgroupV2(root)) {
    const dir = join(root, rel);
    const texts = await Promise.all(V2_FILES.map((f) => readOrUndefined(join(dir, f))));
    if (texts[0] === undefined) throw new Error(`cgroup ${cgroupsPath} not found`);
    return statsFromV2(Object.fromEntries(V2_FILES.map((f, i) => [f, texts[i]])));
  }
  const texts = await Promise.all(
    V1_FILES.map((f) => {
      const [controller, file] = f.split('/') as [string, string];
      return readOrUndefined(join(root, controller, rel, file));
    }),
  );
  if (texts[0] === undefined) throw new Error(`cgroup ${cgroupsPath} not found`);
  return statsFromV1(Object.fromEntries(V1_FILES.map((f, i) => [f, texts[i]])));
}

/** /proc/stat's first `cpu` line: the 7 fields moby sums (user..softirq), in nanoseconds; and the cpuN count. */
export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      if (f.length < 8) throw new Error('invalid number of cpu fields');
      const ticks = f.slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
      systemUsage = (ticks * 1e9) / CLOCK_TICKS;
    } else if (/^cpu\d+$/.test(f[0] ?? '')) {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}

export async function readSystemCpu(): Promise<{ systemUsage: number; onlineCpus: number }> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'));
}
