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

export async function writeEtcFiles(bundle: string, opts: { hostname: string; domainname: string; hostNetwork: boolean }): Promise<EtcFiles> {
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
  await Promise.all([
    writeFile(files.hostname, `${opts.hostname}\n`),
    writeFile(files.hosts, hosts),
    writeFile(files.resolvConf, opts.hostNetwork ? hostResolv : filterResolvConf(hostResolv)),
  ]);
  return files;
}
