// Host ports for a starting container (moby's bridge driver addPortMappings + portallocator):
// an exact port is checked against the other containers' mappings and bound; `-p 80`, `-P`
// and host port ranges take the next free port of the range (the kernel's ephemeral range
// when none is given), moving on past ports a host process holds.
import { isIPv6 } from 'node:net';
import { readFile } from 'node:fs/promises';
import { SystemError } from '../../../errors.js';
import type { ContainerConfig, HostConfig } from '../../containers/model.js';
import { BindError, holdPort, type HeldPort } from './host-sockets.js';
import { portRequests, sameHostPort, type PortRequest } from './requests.js';
import { isAnyIPv4 } from './spec.js';
import type { PortMapping, PortProtocol } from './types.js';

export interface AllocateOptions {
  /** Keep the bound sockets under this key (the container's id) until releasePorts(key). */
  owner?: string;
  /** The endpoint, for Docker's "driver failed programming external connectivity" text. */
  endpoint?: { name: string; id: string; containerIp?: string };
  /** The container has an IPv6 address: IPv6 host addresses are published (else skipped, as Docker does without its proxy). */
  ipv6?: boolean;
  /** Ports picked for `-p 80` and `-P`; by default the kernel's ip_local_port_range, as moby. */
  ephemeral?: { start: number; end: number };
}

/** Bind failures tolerated while looking for a free port, as moby's maxAllocatePortAttempts. */
const MAX_BIND_ATTEMPTS = 10;

const held = new Map<string, HeldPort[]>();
/** moby's portallocator goes on after the port it gave last (per protocol), not from the start. */
const lastPicked: Record<PortProtocol, number> = { tcp: 0, udp: 0, sctp: 0 };

let ephemeralRange: Promise<{ start: number; end: number }> | undefined;

/** /proc/sys/net/ipv4/ip_local_port_range, or moby's fallback 49153-65535. */
export function ephemeralPortRange(): Promise<{ start: number; end: number }> {
  ephemeralRange ??= readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').then(
    (s) => {
      const [start, end] = s.trim().split(/\s+/).map(Number);
      return start > 0 && end >= start && end <= 65535 ? { start, end } : { start: 49153, end: 65535 };
    },
    () => ({ start: 49153, end: 65535 }),
  );
  return ephemeralRange;
}

/** Two mappings would take the same host socket: same protocol and port, and addresses that overlap. */
export function overlaps(a: { hostIp: string; hostPort: number; protocol: string }, b: { hostIp: string; hostPort: number; protocol: string }): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  if (a.hostIp === b.hostIp || (isAnyIPv4(a.hostIp) && isAnyIPv4(b.hostIp))) return true;
  const v6a = isIPv6(a.hostIp);
  const v6b = isIPv6(b.hostIp);
  if (v6a !== v6b) return false;
  return v6a ? a.hostIp === '::' || b.hostIp === '::' : isAnyIPv4(a.hostIp) || isAnyIPv4(b.hostIp);
}

const showIp = (ip: string) => (ip === '' ? '0.0.0.0' : isIPv6(ip) ? `[${ip}]` : ip);

/** libnetwork's PortBinding.String(): HostIP:HostPort[-End]:IP:Port/proto, unset parts left out. */
function describe(r: PortRequest, containerIp: string | undefined): string {
  let s = `${showIp(r.hostIp)}:`;
  if (r.hostPortStart !== 0) s += r.hostPortStart !== r.hostPortEnd && r.hostPortEnd !== 0 ? `${r.hostPortStart}-${r.hostPortEnd}:` : `${r.hostPortStart}:`;
  if (containerIp) s += `${isIPv6(containerIp) ? `[${containerIp}]` : containerIp}:`;
  return `${s}${r.containerPort}/${r.protocol}`;
}

class PortError extends Error {}

/**
 * At start: the container's mappings, host ports picked for `-p 80` / `-P` / ranges, requested
 * ones checked free (not in `taken`, the other running containers' mappings, nor bound on the
 * host: each is bound, and kept bound under `opts.owner`). A busy port is a SystemError naming
 * it in Docker 28's words; nothing stays bound after a failure.
 */
export async function allocatePorts(hc: HostConfig, config: ContainerConfig, taken: PortMapping[], opts: AllocateOptions = {}): Promise<PortMapping[]> {
  const requests = portRequests(hc, config).filter((r) => opts.ipv6 || !isIPv6(r.hostIp));
  const mine: PortMapping[] = [];
  const sockets: HeldPort[] = [];
  try {
    for (let i = 0; i < requests.length; ) {
      let j = i + 1;
      while (j < requests.length && sameHostPort(requests[i], requests[j])) j++;
      const group = requests.slice(i, j);
      i = j;
      const got = await allocateGroup(group, [...taken, ...mine], sockets, opts);
      mine.push(...got);
    }
  } catch (err) {
    for (const s of sockets) s.close();
    if (!(err instanceof PortError)) throw err;
    const ep = opts.endpoint;
    throw new SystemError(ep ? `driver failed programming external connectivity on endpoint ${ep.name} (${ep.id}): ${err.message}` : err.message);
  }
  if (opts.owner !== undefined && sockets.length) held.set(opts.owner, [...(held.get(opts.owner) ?? []), ...sockets]);
  else for (const s of sockets) s.close();
  return mine;
}

/** Requests that differ only in host address: one host port for all of them. */
async function allocateGroup(group: PortRequest[], busy: PortMapping[], sockets: HeldPort[], opts: AllocateOptions): Promise<PortMapping[]> {
  const first = group[0];
  const mapping = (r: PortRequest, hostPort: number): PortMapping => ({ hostIp: r.hostIp, hostPort, containerPort: r.containerPort, protocol: r.protocol });
  if (first.hostPortStart !== 0 && first.hostPortStart === first.hostPortEnd) {
    const port = first.hostPortStart;
    for (const r of group) {
      const clash = busy.find((m) => overlaps(m, { hostIp: r.hostIp, hostPort: port, protocol: r.protocol }));
      if (clash && clash.hostIp === r.hostIp) throw new PortError(`Bind for ${r.hostIp === '' ? '0.0.0.0' : r.hostIp}:${port} failed: port is already allocated`);
      if (clash) throw new PortError(`failed to bind host port for ${describe(r, opts.endpoint?.containerIp)}: ${new BindError('EADDRINUSE').message}`);
    }
    const bound = await bindAll(group, port);
    if (bound instanceof BindError) throw new PortError(`failed to bind host port for ${describe(bound.request, opts.endpoint?.containerIp)}: ${bound.message}`);
    sockets.push(...bound);
    return group.map((r) => mapping(r, port));
  }
  const range = first.hostPortStart === 0 ? (opts.ephemeral ?? (await ephemeralPortRange())) : { start: first.hostPortStart, end: first.hostPortEnd };
  const size = range.end - range.start + 1;
  const last = lastPicked[first.protocol];
  let port = last >= range.start && last <= range.end ? last : range.end;
  let failures = 0;
  let lastError: (BindError & { request: PortRequest; port: number }) | undefined;
  for (let n = 0; n < size; n++) {
    port = port >= range.end ? range.start : port + 1;
    if (group.some((r) => busy.some((m) => overlaps(m, { hostIp: r.hostIp, hostPort: port, protocol: r.protocol })))) continue;
    const bound = await bindAll(group, port);
    if (!(bound instanceof BindError)) {
      lastPicked[first.protocol] = port;
      sockets.push(...bound);
      return group.map((r) => mapping(r, port));
    }
    lastError = Object.assign(bound, { port });
    if (++failures >= MAX_BIND_ATTEMPTS) break;
  }
  if (!lastError) throw new PortError('all ports are allocated');
  const r = lastError.request;
  const text = r.hostPortStart === r.hostPortEnd ? 'failed to bind host port for' : `failed to bind host port ${lastError.port} for`;
  throw new PortError(`${text} ${describe(r, opts.endpoint?.containerIp)}: ${lastError.message}`);
}

/** Binds `port` on every request's address; on a failure, closes what it bound. */
async function bindAll(group: PortRequest[], port: number): Promise<HeldPort[] | (BindError & { request: PortRequest })> {
  const out: HeldPort[] = [];
  for (const r of group) {
    try {
      out.push(await holdPort(r.hostIp, port, r.protocol));
    } catch (err) {
      for (const s of out) s.close();
      if (err instanceof BindError) return Object.assign(err, { request: r });
      throw err;
    }
  }
  return out;
}

/** The container's ports are no longer published: its held sockets are closed. Idempotent. */
export function releasePorts(owner: string): void {
  for (const s of held.get(owner) ?? []) s.close();
  held.delete(owner);
}

/**
 * Daemon start: a still-running container's mappings are held again (the sockets died with the
 * previous daemon). Best effort: returns the mappings some other process took meanwhile.
 */
export async function holdPortsAgain(owner: string, mappings: PortMapping[]): Promise<PortMapping[]> {
  releasePorts(owner);
  const sockets: HeldPort[] = [];
  const lost: PortMapping[] = [];
  for (const m of mappings) {
    try {
      sockets.push(await holdPort(m.hostIp, m.hostPort, m.protocol));
    } catch {
      lost.push(m);
    }
  }
  if (sockets.length) held.set(owner, sockets);
  return lost;
}
