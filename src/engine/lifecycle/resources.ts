// HostConfig's resource fields: what a start puts in the OCI spec, how `docker update`
// validates and merges them (moby daemon/daemon_unix.go verifyPlatformContainerResources and
// container/container_unix.go UpdateContainer), with moby's messages.
import { cpus } from 'node:os';
import { ConflictError, InvalidParameterError } from '../../errors.js';
import type { ResourceLimits } from '../../runtime/oci-spec.js';
import type { HostConfig, RestartPolicy } from '../containers/model.js';

/** The update body (api/types/container.UpdateConfig): Resources flattened, plus RestartPolicy. */
export interface ResourceUpdate {
  Memory: number;
  MemoryReservation: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** null: unchanged. */
  PidsLimit: number | null;
  BlkioWeight: number;
  RestartPolicy: RestartPolicy;
}

const MIN_MEMORY = 6 * 1024 * 1024;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The limits a start applies, from the stored HostConfig. */
export function resourceLimits(hc: HostConfig): ResourceLimits {
  const memory = num(hc.Memory);
  let memorySwap = num(hc.MemorySwap);
  // moby's adaptContainerSettings: a memory limit without a swap limit gets swap = 2 x memory.
  if (memory > 0 && memorySwap === 0) memorySwap = memory * 2;
  const pids = hc.PidsLimit;
  return {
    memory,
    memoryReservation: num(hc.MemoryReservation),
    memorySwap,
    memorySwappiness: typeof hc.MemorySwappiness === 'number' ? hc.MemorySwappiness : undefined,
    oomKillDisable: hc.OomKillDisable === true,
    nanoCpus: num(hc.NanoCpus),
    cpuShares: num(hc.CpuShares),
    cpuPeriod: num(hc.CpuPeriod),
    cpuQuota: num(hc.CpuQuota),
    cpusetCpus: str(hc.CpusetCpus),
    cpusetMems: str(hc.CpusetMems),
    pidsLimit: typeof pids === 'number' && pids > 0 ? pids : undefined,
    blkioWeight: num(hc.BlkioWeight),
  };
}

function field<T>(body: Record<string, unknown>, key: string, kind: 'number' | 'string', dflt: T): T {
  const v = body[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== kind || (kind === 'number' && !Number.isInteger(v))) {
    throw new InvalidParameterError(`json: cannot unmarshal ${typeof v} into Go struct field UpdateConfig.${key} of type ${kind === 'number' ? 'int64' : 'string'}`);
  }
  return v as T;
}

export function parseResourceUpdate(body: unknown): ResourceUpdate {
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const rp = (b.RestartPolicy && typeof b.RestartPolicy === 'object' ? b.RestartPolicy : {}) as Record<string, unknown>;
  return {
    Memory: field(b, 'Memory', 'number', 0),
    MemoryReservation: field(b, 'MemoryReservation', 'number', 0),
    MemorySwap: field(b, 'MemorySwap', 'number', 0),
    NanoCpus: field(b, 'NanoCpus', 'number', 0),
    CpuShares: field(b, 'CpuShares', 'number', 0),
    CpuPeriod: field(b, 'CpuPeriod', 'number', 0),
    CpuQuota: field(b, 'CpuQuota', 'number', 0),
    CpusetCpus: field(b, 'CpusetCpus', 'string', ''),
    CpusetMems: field(b, 'CpusetMems', 'string', ''),
    PidsLimit: field<number | null>(b, 'PidsLimit', 'number', null),
    BlkioWeight: field(b, 'BlkioWeight', 'number', 0),
    RestartPolicy: {
      Name: field(rp, 'Name', 'string', '') as RestartPolicy['Name'],
      MaximumRetryCount: field(rp, 'MaximumRetryCount', 'number', 0),
    },
  };
}

/** `0-3,5` -> [0,1,2,3,5]; null when malformed. */
function parseCpuList(list: string): number[] | null {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** What a create checks beyond an update's fields (moby's verifyPlatformContainerResources with update = false). */
export interface CreateResources {
  /** -1 or absent: the kernel's default. */
  MemorySwappiness?: number | null;
}

/** moby 28's verifyPlatformContainerResources, in its order and words; errors are 400s. */
export function validateResourceUpdate(u: ResourceUpdate, ncpu = cpus().length, create?: CreateResources): void {
  const bad = (msg: string) => new InvalidParameterError(msg);
  if (u.Memory !== 0 && u.Memory < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (u.Memory > 0 && u.MemorySwap > 0 && u.MemorySwap < u.Memory) {
    throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (create && u.Memory === 0 && u.MemorySwap > 0) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = create?.MemorySwappiness;
  if (typeof swappiness === 'number' && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw bad(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (u.MemoryReservation > 0 && u.MemoryReservation < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (u.Memory > 0 && u.MemoryReservation > 0 && u.Memory < u.MemoryReservation) {
    throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (u.NanoCpus > 0 && u.CpuPeriod > 0) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (u.NanoCpus > 0 && u.CpuQuota > 0) throw bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (u.NanoCpus < 0 || u.NanoCpus > ncpu * 1e9) {
    throw bad(`range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (u.CpuPeriod !== 0 && (u.CpuPeriod < 1000 || u.CpuPeriod > 1000000)) {
    throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (u.CpuQuota > 0 && u.CpuQuota < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (u.CpusetCpus) {
    const list = parseCpuList(u.CpusetCpus);
    if (!list) throw bad(`Invalid value ${u.CpusetCpus} for cpuset cpus: invalid format: ${u.CpusetCpus}`);
    if (list.some((c) => c >= ncpu)) {
      throw bad(`Requested CPUs are not available - requested ${u.CpusetCpus}, available: ${ncpu > 1 ? `0-${ncpu - 1}` : '0'}`);
    }
  }
  if (u.CpusetMems && !parseCpuList(u.CpusetMems)) throw bad(`Invalid value ${u.CpusetMems} for cpuset mems: invalid format: ${u.CpusetMems}`);
  if (u.BlkioWeight > 0 && (u.BlkioWeight < 10 || u.BlkioWeight > 1000)) throw bad('Range of blkio weight is from 10 to 1000');
  validateRestartPolicy(u.RestartPolicy);
}

/** moby 28's container.ValidateRestartPolicy (a create has turned an empty name into `no`). */
export function validateRestartPolicy(p: RestartPolicy): void {
  const bad = (msg: string) => new InvalidParameterError(`invalid restart policy: ${msg}`);
  switch (p.Name) {
    case '':
      // an update that leaves the policy alone; any count, as moby allows for old clients
      return;
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (p.MaximumRetryCount !== 0) {
        throw bad(`maximum retry count can only be used with 'on-failure'${p.MaximumRetryCount < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw bad('maximum retry count cannot be negative');
      return;
    default:
      throw bad(`unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/**
 * moby's UpdateContainer: merge the non-zero fields into the HostConfig (a copy is returned);
 * conflicts with what is already set are 409s, wrapped "Cannot update container <id>: ...".
 */
export function mergeResourceUpdate(id: string, hc: HostConfig, u: ResourceUpdate): HostConfig {
  const conflict = (msg: string) => new ConflictError(`Cannot update container ${id}: Conflicting options: ${msg}`);
  const cur = { nano: num(hc.NanoCpus), period: num(hc.CpuPeriod), quota: num(hc.CpuQuota), swap: num(hc.MemorySwap) };
  if (u.NanoCpus > 0 && cur.period > 0) throw conflict('CPU Period cannot be updated as NanoCPUs has already been set');
  if (u.NanoCpus > 0 && cur.quota > 0) throw conflict('CPU Quota cannot be updated as NanoCPUs has already been set');
  if (u.CpuPeriod > 0 && cur.nano > 0) throw conflict('CPU Period cannot be updated as NanoCPUs has already been set');
  if (u.CpuQuota > 0 && cur.nano > 0) throw conflict('CPU Quota cannot be updated as NanoCPUs has already been set');
  if (u.Memory !== 0 && cur.swap > 0 && u.Memory > cur.swap && u.MemorySwap === 0) {
    throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const next: HostConfig = { ...hc };
  const set = (key: string, v: number | string) => {
    if (v) next[key] = v;
  };
  set('BlkioWeight', u.BlkioWeight);
  set('CpuShares', u.CpuShares);
  set('NanoCpus', u.NanoCpus);
  set('CpuPeriod', u.CpuPeriod);
  set('CpuQuota', u.CpuQuota);
  set('CpusetCpus', u.CpusetCpus);
  set('CpusetMems', u.CpusetMems);
  set('Memory', u.Memory);
  set('MemorySwap', u.MemorySwap);
  set('MemoryReservation', u.MemoryReservation);
  if (u.PidsLimit !== null) next.PidsLimit = u.PidsLimit;
  if (u.RestartPolicy.Name) {
    if (u.RestartPolicy.Name !== 'no' && hc.AutoRemove) {
      throw new ConflictError(`Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
    }
    next.RestartPolicy = { ...u.RestartPolicy };
  }
  return next;
}

/** The limits `runc update` gets: only those the update changed, so runc keeps the rest. */
export function updateLimits(u: ResourceUpdate, merged: HostConfig): ResourceLimits {
  return {
    memory: u.Memory || undefined,
    memoryReservation: u.MemoryReservation || undefined,
    memorySwap: u.MemorySwap || undefined,
    nanoCpus: u.NanoCpus || undefined,
    cpuShares: u.CpuShares || undefined,
    cpuPeriod: u.CpuPeriod || undefined,
    cpuQuota: u.CpuQuota || undefined,
    cpusetCpus: u.CpusetCpus || undefined,
    cpusetMems: u.CpusetMems || undefined,
    pidsLimit: u.PidsLimit === null ? undefined : num(merged.PidsLimit) > 0 ? num(merged.PidsLimit) : -1,
    blkioWeight: u.BlkioWeight || undefined,
  };
}
