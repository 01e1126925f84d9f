// Port keys and host ports as Docker writes them ("80/tcp", "9000-9002"), parsed the way
// go-connections' nat package does, with its error texts.
import { isIP } from 'node:net';
import type { PortProtocol } from './types.js';

export const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

/** nat.SplitProtoPort: "80/udp" -> ['udp', '80']; no protocol is tcp; '' stays ''. */
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0].length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1].length === 0) return ['tcp', parts[0]];
  return [parts[1], parts[0]];
}

/** Go's strconv.ParseUint(s, 10, 16) error text, for messages that quote it. */
function parseUint16(s: string): number | string {
  if (!/^[0-9]+$/.test(s)) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = Number(s);
  if (n > 65535) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`;
  return n;
}

/** nat.ParsePortRange: "8000" or "8000-9000"; the error is a string (Go's text). */
export function parsePortRange(ports: string): { start: number; end: number } | string {
  if (ports === '') return 'empty string specified for ports';
  if (!ports.includes('-')) {
    const n = parseUint16(ports);
    return typeof n === 'string' ? n : { start: n, end: n };
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0]);
  if (typeof start === 'string') return start;
  const end = parseUint16(parts[1]);
  if (typeof end === 'string') return end;
  if (end < start) return `invalid range specified for port: ${ports}`;
  return { start, end };
}

/** A host port as a binding gives it: '' or '0' is "any free port", else a port or a range. */
export function parseHostPort(hostPort: string): { start: number; end: number } | string {
  const [, port] = splitProtoPort(hostPort);
  if (port === '') return { start: 0, end: 0 };
  return parsePortRange(port);
}

export function isProtocol(p: string): p is PortProtocol {
  return (PROTOCOLS as readonly string[]).includes(p);
}

/** A port key ("80/tcp") as moby reads it at start: port number and protocol. */
export function parsePortKey(key: string): { port: number; protocol: PortProtocol } | undefined {
  const [proto, port] = splitProtoPort(key);
  const p = parsePortRange(port);
  const protocol = proto.toLowerCase();
  if (typeof p === 'string' || !isProtocol(protocol)) return undefined;
  if (p.start !== p.end) return undefined;
  return { port: p.start, protocol };
}

/**
 * Config.ExposedPorts as a list of single ports: ranges ("7000-7002/tcp", which images and
 * API clients may carry) expanded, keys normalised ("80" -> "80/tcp"), unparsable keys dropped
 * (create refuses them; older records may hold them).
 */
export function exposedPortList(exposed: Record<string, unknown> | undefined | null): { port: number; protocol: PortProtocol }[] {
  const out = new Map<string, { port: number; protocol: PortProtocol }>();
  for (const key of Object.keys(exposed ?? {})) {
    const [proto, port] = splitProtoPort(key);
    const r = parsePortRange(port);
    const protocol = proto.toLowerCase();
    if (typeof r === 'string' || !isProtocol(protocol)) continue;
    for (let p = r.start; p <= r.end; p++) out.set(`${p}/${protocol}`, { port: p, protocol });
  }
  return [...out.values()];
}

/** A binding's HostIp: '' (all addresses), an IPv4 or an IPv6 address ('[::1]' accepted). */
export function normaliseHostIp(ip: string): string | undefined {
  if (ip === '') return '';
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  return isIP(bare) === 0 ? undefined : bare;
}

/** Every IPv4 address of the host: '' or 0.0.0.0. */
export const isAnyIPv4 = (hostIp: string) => hostIp === '' || hostIp === '0.0.0.0';

/** The key Docker prints for a port ("80/tcp"). */
export const portKey = (port: number, protocol: string) => `${port}/${protocol}`;
