// The daemon's registry settings (dockerd's `insecure-registries` and `registry-mirrors`) and what
// they decide, as moby's registry/config.go and service_v2.go: which registries may be spoken to
// without a verified certificate, and which endpoints a pull, push or login tries, in order.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidParameterError } from '../../errors.js';

/** One place to send registry requests: a base URL without its trailing slash. */
export interface RegistryEndpoint {
  url: string;
  /** A docker.io mirror: never given the upstream's credentials. */
  mirror: boolean;
  /** HTTPS without certificate verification (an insecure registry's HTTPS try). */
  skipTlsVerify: boolean;
}

/** moby's registry.IndexInfo, as GET /info shows it. */
export interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

/** moby's registry.ServiceConfig, as GET /info's RegistryConfig. */
export interface ServiceConfigView {
  InsecureRegistryCIDRs: string[];
  IndexConfigs: Record<string, IndexInfo>;
  Mirrors: string[];
}

export const OFFICIAL_INDEX = 'docker.io';
export const OFFICIAL_REGISTRY_URL = 'https://registry-1.docker.io';

interface Cidr {
  text: string;
  family: 'ipv4' | 'ipv6';
  network: string;
  prefix: number;
}

function ipv6Bytes(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let s = ip;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = s.split('::');
  const groups = (x: string | undefined) => (x ? x.split(':').filter((g) => g !== '') : []);
  const h = groups(head);
  const r = groups(rest);
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const bytes = all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** Go's IP.String for IPv6: lowercase, the longest run of two or more zero groups as '::'. */
function formatIpv6(bytes: number[]): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Go's net.ParseCIDR: the network of `s`, or undefined when `s` is no CIDR. */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const fam = isIP(m[1]);
  if (fam === 4) {
    if (prefix > 32) return undefined;
    const n = m[1].split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const net = (n & mask) >>> 0;
    const network = [24, 16, 8, 0].map((sh) => (net >>> sh) & 0xff).join('.');
    return { text: `${network}/${prefix}`, family: 'ipv4', network, prefix };
  }
  if (fam === 6) {
    if (prefix > 128) return undefined;
    const bytes = ipv6Bytes(m[1])!;
    for (let i = 0; i < 16; i++) {
      const bits = Math.max(0, Math.min(8, prefix - i * 8));
      bytes[i] &= (0xff << (8 - bits)) & 0xff;
    }
    const network = formatIpv6(bytes);
    return { text: `${network}/${prefix}`, family: 'ipv6', network, prefix };
  }
  return undefined;
}

function splitHostPort(hostPort: string): { host: string; port: string } {
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(hostPort);
  if (v6) return { host: v6[1], port: v6[2] ?? '' };
  const i = hostPort.lastIndexOf(':');
  if (i > 0 && hostPort.indexOf(':') === i) return { host: hostPort.slice(0, i), port: hostPort.slice(i + 1) };
  return { host: hostPort, port: '' };
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_PORT = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);

/** moby's validateHostPort for an insecure registry given as host[:port]. */
function checkHostPort(r: string): void {
  const { host, port } = splitHostPort(r);
  if (!HOST_PORT.test(r) && isIP(host) === 0) throw new InvalidParameterError(`insecure registry ${r} is not valid: invalid host "${host}"`);
  if (port !== '') {
    if (!/^[0-9]+$/.test(port)) throw new InvalidParameterError(`insecure registry ${r} is not valid: strconv.Atoi: parsing "${port}": invalid syntax`);
    if (Number(port) > 65535) throw new InvalidParameterError(`insecure registry ${r} is not valid: invalid port "${port}"`);
  }
}

/** moby's ValidateMirror: http(s) only, no query, fragment or user info; normalised with a trailing slash. */
export function validateMirror(mirror: string): string {
  let u: URL;
  try {
    u = new URL(mirror);
  } catch {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(mirror)?.[1] ?? '';
    throw new InvalidParameterError(`invalid mirror: unsupported scheme "${scheme}" in "${mirror}"`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') throw new InvalidParameterError(`invalid mirror: unsupported scheme "${scheme}" in "${mirror}"`);
  if (u.search !== '' || u.hash !== '') throw new InvalidParameterError(`invalid mirror: query or fragment at end of the URI "${mirror}"`);
  if (u.username !== '' || u.password !== '') {
    // never echo a password, as moby replaces it
    u.password = 'xxxxx';
    throw new InvalidParameterError(`invalid mirror: username/password not allowed in URI "${u.toString()}"`);
  }
  return `${mirror.replace(/\/+$/, '')}/`;
}

export class RegistryConfig {
  private readonly cidrs: Cidr[] = [];
  private readonly blocks = new BlockList();
  private readonly indexConfigs = new Map<string, IndexInfo>();
  readonly mirrors: string[];
  /** Mirrors per registry host (the CRI's `registry-mirrors`), tried before the host itself. */
  private readonly hostMirrors = new Map<string, string[]>();

  /** Throws InvalidParameterError with moby's texts for a bad mirror or insecure registry. */
  constructor(private readonly opts: { mirrors?: string[]; insecureRegistries?: string[] } = {}) {
    this.mirrors = [...new Set((opts.mirrors ?? []).map(validateMirror))];
    // Loopback is always insecure: a stop-gap moby keeps for registries on localhost.
    for (let r of [...(opts.insecureRegistries ?? []), '::1/128', '127.0.0.0/8']) {
      if (r === 'index.docker.io') r = OFFICIAL_INDEX;
      if (r.startsWith('-') || r.endsWith('-')) throw new InvalidParameterError(`invalid index name (${r}). Cannot begin or end with a hyphen`);
      if (/^http:\/\//i.test(r)) r = r.slice(7);
      else if (/^https:\/\//i.test(r)) r = r.slice(8);
      else if (r.includes('://')) throw new InvalidParameterError(`insecure registry ${r} should not contain '://'`);
      const cidr = parseCidr(r);
      if (cidr !== undefined) {
        if (this.cidrs.some((c) => c.text === cidr.text)) continue;
        this.cidrs.push(cidr);
        this.blocks.addSubnet(cidr.network, cidr.prefix, cidr.family);
        continue;
      }
      checkHostPort(r);
      this.indexConfigs.set(r, { Name: r, Mirrors: [], Secure: false, Official: false });
    }
    this.indexConfigs.set(OFFICIAL_INDEX, { Name: OFFICIAL_INDEX, Mirrors: this.mirrors, Secure: true, Official: true });
  }

  /** moby's isSecureIndex: a configured index decides; else whether the host's addresses fall in an insecure CIDR. */
  async isSecure(hostPort: string): Promise<boolean> {
    const configured = this.indexConfigs.get(hostPort);
    if (configured !== undefined) return configured.Secure;
    const { host } = splitHostPort(hostPort);
    let addresses: { address: string; family: number }[];
    if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await lookup(host, { all: true });
      } catch {
        return true;
      }
    }
    return !addresses.some((a) => this.blocks.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
  }

  /**
   * A copy whose pulls of each host in `byHost` go to that host's mirrors first, as containerd's
   * per-registry mirrors (hosts.toml) do; used by the CRI front end only, so Docker's own pulls
   * keep moby's rule (registry-mirrors are docker.io's alone).
   */
  withHostMirrors(byHost: Record<string, string[]>): RegistryConfig {
    const copy = new RegistryConfig(this.opts);
    for (const [host, list] of Object.entries(byHost)) {
      const key = host === 'index.docker.io' ? OFFICIAL_INDEX : host;
      copy.hostMirrors.set(key, [...new Set(list.map(validateMirror))]);
    }
    return copy;
  }

  /**
   * The endpoints to try for `domain`, best first (moby's lookupV2Endpoints): docker.io's mirrors
   * (when asked) then registry-1.docker.io; any other registry over HTTPS, then plain HTTP when
   * it is insecure.
   */
  async endpoints(domain: string, opts: { mirrors: boolean }): Promise<RegistryEndpoint[]> {
    const own = opts.mirrors ? this.hostMirrors.get(domain === 'index.docker.io' ? OFFICIAL_INDEX : domain) : undefined;
    if (own === undefined) return this.registryEndpoints(domain, opts);
    const out: RegistryEndpoint[] = [];
    for (const m of own) {
      const u = new URL(m);
      out.push({ url: m.replace(/\/+$/, ''), mirror: true, skipTlsVerify: u.protocol === 'https:' && !(await this.isSecure(u.host)) });
    }
    return [...out, ...(await this.registryEndpoints(domain, opts))];
  }

  private async registryEndpoints(domain: string, opts: { mirrors: boolean }): Promise<RegistryEndpoint[]> {
    if (domain === OFFICIAL_INDEX || domain === 'index.docker.io') {
      const out: RegistryEndpoint[] = [];
      if (opts.mirrors) {
        for (const m of this.mirrors) {
          const u = new URL(m);
          out.push({ url: m.replace(/\/+$/, ''), mirror: true, skipTlsVerify: u.protocol === 'https:' && !(await this.isSecure(u.host)) });
        }
      }
      out.push({ url: OFFICIAL_REGISTRY_URL, mirror: false, skipTlsVerify: false });
      return out;
    }
    if (await this.isSecure(domain)) return [{ url: `https://${domain}`, mirror: false, skipTlsVerify: false }];
    return [
      { url: `https://${domain}`, mirror: false, skipTlsVerify: true },
      { url: `http://${domain}`, mirror: false, skipTlsVerify: true },
    ];
  }

  /** GET /info's RegistryConfig, as moby's ServiceConfig marshals. */
  view(): ServiceConfigView {
    return {
      InsecureRegistryCIDRs: this.cidrs.map((c) => c.text),
      // Go marshals a map with its keys sorted
      IndexConfigs: Object.fromEntries([...this.indexConfigs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, { ...v, Mirrors: [...v.Mirrors] }])),
      Mirrors: [...this.mirrors],
    };
  }
}
