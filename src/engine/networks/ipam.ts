// IPv4 address management as Docker's default IPAM does it: subnets carved from address pools
// (never overlapping a host route nor another network), addresses handed out inside a subnet or
// its ip-range. Pure functions over numbers; the service feeds them the routes and networks.
import { ForbiddenError, InvalidParameterError } from '../../errors.js';
import type { IpamPool } from './model.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit number (host bits kept as given). */
  addr: number;
  prefix: number;
}

export interface AddressPool {
  /** e.g. 172.18.0.0/16 */
  base: string;
  /** Prefix length of each subnet carved from it. */
  size: number;
}

/**
 * Docker's local-scope default-address-pools (libnetwork/ipamutils), without 172.17.0.0/16: that
 * one is docker0's on a host that also runs Docker, and berth never takes it.
 */
export const DEFAULT_ADDRESS_POOLS: AddressPool[] = [
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** Docker's own default bridge subnet, reserved even where no route shows it. */
export const DOCKER0_SUBNET = '172.17.0.0/16';

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith('0')))) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) return undefined;
  return { addr, prefix: Number(p) };
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function masked(c: Cidr): Cidr {
  return { addr: (c.addr & mask(c.prefix)) >>> 0, prefix: c.prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.addr)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === ((c.addr & mask(c.prefix)) >>> 0);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.addr & mask(p)) >>> 0) === ((b.addr & mask(p)) >>> 0);
}

function lastAddress(c: Cidr): number {
  return (masked(c).addr | (~mask(c.prefix) >>> 0)) >>> 0;
}

/**
 * IPv4 routes from /proc/net/route (hex, host byte order as the kernel prints it: little-endian
 * here), without the default route, which overlaps everything.
 */
export function parseProcRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1]);
    const m = leHex(f[7]);
    if (dest === undefined || m === undefined || m === 0) continue;
    out.push({ addr: dest, prefix: 32 - countZeros(m) });
  }
  return out;
}

function countZeros(m: number): number {
  let n = 0;
  while (n < 32 && ((m >>> n) & 1) === 0) n++;
  return n;
}

function leHex(s: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(s)) return undefined;
  const v = parseInt(s, 16);
  return (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) | (v >>> 24)) >>> 0;
}

/**
 * The first subnet of the pools that overlaps nothing in `used` (the host's routes, the other
 * networks' subnets, 172.17.0.0/16). Undefined when the pools are exhausted.
 */
export function pickSubnet(pools: AddressPool[], used: Cidr[]): Cidr | undefined {
  const taken = [...used, parseCidr(DOCKER0_SUBNET)!];
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    if (!base || pool.size < base.prefix || pool.size > 32) continue;
    const step = 2 ** (32 - pool.size);
    const count = 2 ** (pool.size - base.prefix);
    const start = masked(base).addr;
    for (let i = 0; i < count; i++) {
      const candidate: Cidr = { addr: (start + i * step) >>> 0, prefix: pool.size };
      if (!taken.some((t) => overlaps(t, candidate))) return candidate;
    }
  }
  return undefined;
}

/** Checks the pools of daemon.json's default-address-pools / --default-address-pool. */
export function validatePools(pools: AddressPool[]): string | undefined {
  for (const p of pools) {
    const base = parseCidr(p.base);
    if (!base) return `invalid base pool "${p.base}"`;
    if (!Number.isInteger(p.size) || p.size < base.prefix || p.size > 32) return `invalid pools size: ${p.size}`;
  }
  return undefined;
}

/**
 * moby's ValidateIPAM for IPv4 configs (api/types/network/ipam.go), its texts and its joining of
 * several errors; IPv6 entries are refused since berth's networks are IPv4 only.
 */
export function validateIpamConfig(configs: IpamPool[]): void {
  const errs: string[] = [];
  for (const cfg of configs) {
    const subnet = parseCidr(cfg.Subnet ?? '');
    if (!subnet) {
      errs.push(`invalid subnet ${cfg.Subnet}: invalid CIDR block notation`);
      continue;
    }
    const m = masked(subnet);
    if (m.addr !== subnet.addr) errs.push(`invalid subnet ${cfg.Subnet}: it should be ${formatCidr(m)}`);
    if (cfg.IPRange) {
      const r = parseCidr(cfg.IPRange);
      if (!r) errs.push(`invalid ip-range ${cfg.IPRange}: invalid CIDR block notation`);
      else {
        if (r.prefix < subnet.prefix) errs.push(`invalid ip-range ${cfg.IPRange}: CIDR block is bigger than its parent subnet ${cfg.Subnet}`);
        if (masked(r).addr !== r.addr) errs.push(`invalid ip-range ${cfg.IPRange}: it should be ${formatCidr(masked(r))}`);
        if (!overlaps(subnet, r)) errs.push(`invalid ip-range ${cfg.IPRange}: parent subnet ${cfg.Subnet} doesn't contain ip-range`);
      }
    }
    if (cfg.Gateway) {
      const gw = parseIp(cfg.Gateway);
      if (gw === undefined) errs.push(`invalid gateway ${cfg.Gateway}: invalid address`);
      else if (!contains(subnet, gw)) errs.push(`invalid gateway ${cfg.Gateway}: parent subnet ${cfg.Subnet} doesn't contain this address`);
    }
  }
  if (errs.length === 0) return;
  const joined = errs.length === 1 ? errs[0] : '* ' + errs.join('\n* ');
  throw new InvalidParameterError(`invalid network config:\n${joined}`);
}

/** Refuses a subnet that overlaps another network's (Docker's 403). */
export function checkNoOverlap(subnet: Cidr, others: Cidr[]): void {
  if (others.some((o) => overlaps(o, subnet))) {
    throw new ForbiddenError('invalid pool request: Pool overlaps with other one on this address space');
  }
}

/** The gateway Docker gives a subnet when none is asked for: its first address. */
export function defaultGateway(subnet: Cidr): number {
  return (masked(subnet).addr + 1) >>> 0;
}

/**
 * A network's pool completed as Docker reports it: Subnet canonical, Gateway the first address
 * unless given.
 */
export function completePool(cfg: IpamPool): IpamPool {
  const subnet = parseCidr(cfg.Subnet)!;
  const out: IpamPool = { Subnet: cfg.Subnet, Gateway: cfg.Gateway || formatIp(defaultGateway(subnet)) };
  if (cfg.IPRange) out.IPRange = cfg.IPRange;
  return out;
}

/**
 * The lowest free address of the pool's ip-range (or subnet), skipping the network and broadcast
 * addresses, the gateway and `inUse`. Undefined when full.
 */
export function allocateAddress(pool: IpamPool, inUse: Set<string>): string | undefined {
  const subnet = masked(parseCidr(pool.Subnet)!);
  const range = pool.IPRange ? masked(parseCidr(pool.IPRange)!) : subnet;
  const first = Math.max(range.addr, subnet.addr + 1);
  const last = Math.min(lastAddress(range), subnet.prefix >= 31 ? lastAddress(subnet) : lastAddress(subnet) - 1);
  const gateway = pool.Gateway ? parseIp(pool.Gateway) : undefined;
  for (let ip = first; ip <= last; ip++) {
    if (ip === gateway) continue;
    const s = formatIp(ip >>> 0);
    if (!inUse.has(s)) return s;
  }
  return undefined;
}

/**
 * A requested address (--ip): inside the pool's subnet and ip-range, not the gateway nor taken.
 * moby's texts: a 400 when outside, a 403 'Address already in use'.
 */
export function checkRequestedAddress(pool: IpamPool, ip: string, inUse: Set<string>): void {
  const n = parseIp(ip);
  const subnet = parseCidr(pool.Subnet)!;
  const range = pool.IPRange ? parseCidr(pool.IPRange)! : subnet;
  if (n === undefined || !contains(subnet, n)) {
    throw new InvalidParameterError(`invalid endpoint settings:\nno configured subnet or ip-range contain the IP address ${ip}`);
  }
  if (!contains(range, n)) {
    throw new InvalidParameterError(`invalid endpoint settings:\nno configured subnet or ip-range contain the IP address ${ip}`);
  }
  if (inUse.has(ip) || ip === pool.Gateway) throw new ForbiddenError('Address already in use');
}

/** Parses `bip` (the default bridge's gateway address with its prefix, e.g. 192.168.5.1/24). */
export function parseBip(bip: string): IpamPool | undefined {
  const c = parseCidr(bip);
  if (!c || c.prefix > 30) return undefined;
  const subnet = masked(c);
  if (c.addr === subnet.addr || c.addr === lastAddress(c)) return undefined;
  return { Subnet: formatCidr(subnet), Gateway: formatIp(c.addr) };
}
