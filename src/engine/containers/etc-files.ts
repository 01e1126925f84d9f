// The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf that Docker bind-mounts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::\tip6-localnet',
  'ff00::\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

// Docker's fallback when the host has no usable nameserver (libnetwork/resolvconf).
const FALLBACK_NAMESERVERS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

/** The host's resolv.conf without loopback nameservers, which a container cannot reach. */
export function filterResolvConf(hostConf: string): string {
  const lines = hostConf.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(l));
  const hasNameserver = lines.some((l) => /^\s*nameserver\s/.test(l));
  const out = hasNameserver ? lines : [...lines.filter((l) => l.trim() !== ''), ...FALLBACK_NAMESERVERS];
  return out.join('\n').replace(/\n*$/, '\n');
}

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export interface EtcOptions {
  hostname: string;
  domainname: string;
  hostNetwork: boolean;
  /** --dns, --dns-search, --dns-option: each replaces the host's lines of its kind. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --add-host entries; `host-gateway` stands for hostGateway. */
  extraHosts?: { name: string; ip: string }[];
  /** The container's own addresses on its networks: /etc/hosts names the hostname on each. */
  ownAddresses?: string[];
  /** On a user-defined network: resolv.conf names Docker's embedded DNS, 127.0.0.11. */
  embeddedDns?: boolean;
  /** --link on the default bridge: `<ip>\t<alias> <name>` lines in /etc/hosts. */
  linkHosts?: { ip: string; names: string[] }[];
  /** What `host-gateway` in --add-host means: the default bridge's gateway. */
  hostGateway?: string;
}

/** The host's resolv.conf with the user's --dns* lines in place of the host's of that kind. */
export function customResolvConf(base: string, opts: Pick<EtcOptions, 'dns' | 'dnsSearch' | 'dnsOptions'>): string {
  const kinds: [string, string[] | undefined][] = [
    ['nameserver', opts.dns?.length ? opts.dns : undefined],
    ['search', opts.dnsSearch?.length ? opts.dnsSearch : undefined],
    ['options', opts.dnsOptions?.length ? opts.dnsOptions : undefined],
  ];
  if (kinds.every(([, values]) => !values)) return base;
  let lines = base.split('\n').filter((l) => l.trim() !== '');
  for (const [kind, values] of kinds) {
    if (!values) continue;
    lines = lines.filter((l) => !new RegExp(`^\\s*${kind}\\s`).test(l));
    // moby writes one nameserver line each, and search/options as one line
    lines.push(...(kind === 'nameserver' ? values.map((v) => `${kind} ${v}`) : [`${kind} ${values.join(' ')}`]));
  }
  return lines.join('\n') + '\n';
}

export async function writeEtcFiles(bundle: string, opts: EtcOptions): Promise<EtcFiles> {
  const files: EtcFiles = {
    hostname: join(bundle, 'hostname'),
    hosts: join(bundle, 'hosts'),
    resolvConf: join(bundle, 'resolv.conf'),
  };
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  let hosts: string;
  if (opts.hostNetwork) {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => DEFAULT_HOSTS.join('\n') + '\n');
  } else {
    hosts = DEFAULT_HOSTS.join('\n') + '\n';
  }
  for (const h of opts.extraHosts ?? []) hosts += `${h.ip}\t${h.name}\n`;
  const resolv = customResolvConf(opts.hostNetwork ? hostResolv : filterResolvConf(hostResolv), opts);
  await Promise.all([
    writeFile(files.hostname, `${opts.hostname}\n`),
    writeFile(files.hosts, hosts),
    writeFile(files.resolvConf, resolv),
  ]);
  return files;
}
