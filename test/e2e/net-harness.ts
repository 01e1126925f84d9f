// Networking for e2e daemons: each test daemon gets its own default bridge name and address
// pool (so several test daemons and a real berth run side by side), recorded in its base dir
// for the leak check, which then finds that daemon's leftover bridges, veths, netns files,
// iptables rules and aardvark-dns processes without asking it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { networkChains } from '../../src/runtime/netavark/chains.js';

const run = promisify(execFile);

export interface DaemonNet {
  /** The default bridge's interface, e.g. bt-Ab12Cd. */
  bridge: string;
  /** A /16 of 10.128.0.0/9, carved into /24s. */
  pool: string;
}

const NET_FILE = 'net.json';

/** Picks (once per base) a bridge name and a pool no other recorded test daemon nor host route uses. */
export function daemonNet(base: string, otherBases: string[]): DaemonNet {
  const file = join(base, NET_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DaemonNet;
  const used = new Set<number>();
  for (const b of otherBases) {
    try {
      used.add(Number((JSON.parse(readFileSync(join(b, NET_FILE), 'utf8')) as DaemonNet).pool.split('.')[1]));
    } catch {
      // a base of a daemon without networking, or gone
    }
  }
  for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
    const dest = line.trim().split(/\s+/)[1];
    if (dest && /^[0-9A-F]{8}$/i.test(dest) && parseInt(dest.slice(6, 8), 16) === 10) used.add(parseInt(dest.slice(4, 6), 16));
  }
  const free: number[] = [];
  for (let o = 128; o < 255; o++) if (!used.has(o)) free.push(o);
  const octet = free[Math.floor(Math.random() * free.length)] ?? 128 + Math.floor(Math.random() * 127);
  const net: DaemonNet = { bridge: `bt-${basename(base).slice(3, 9)}`.slice(0, 15), pool: `10.${octet}.0.0/16` };
  writeFileSync(file, JSON.stringify(net));
  return net;
}

export function daemonNetArgs(net: DaemonNet): string[] {
  return ['--bridge', net.bridge, '--default-address-pool', `base=${net.pool},size=24`];
}

/**
 * Leftover networking of the daemon whose base is `base`. While that daemon runs, only what a
 * container leaves counts: the daemon keeps its bridges, their anchors (ba<10 hex>) and their
 * network-wide rules as Docker keeps docker0, and removes them when it stops.
 */
export async function networkLeaks(base: string): Promise<string[]> {
  const leaks: string[] = [];
  const running = await daemonRunning(base);
  let net: DaemonNet;
  try {
    net = JSON.parse(await readFile(join(base, NET_FILE), 'utf8')) as DaemonNet;
  } catch {
    return leaks;
  }
  const execRoot = join(base, 'e');
  try {
    for (const f of await readdir(join(execRoot, 'netns'))) leaks.push(`netns file ${join(execRoot, 'netns', f)}`);
  } catch {
    // never ran a container with a network
  }
  const bridges = new Set([net.bridge]);
  /** netavark's nat chains of the daemon's networks (empty ones carry no address to find them by). */
  const chains = new Set<string>();
  const dbPath = join(base, 'd', 'berth.db');
  if (existsSync(dbPath)) {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const has = (t: string) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
      if (has('networks')) for (const r of db.prepare('SELECT record FROM networks').all() as { record: string }[]) {
        const { id, bridge: b } = JSON.parse(r.record) as { id: string; bridge?: string };
        if (b) bridges.add(b);
        if (b) for (const c of networkChains(id)) chains.add(c);
      }
      if (has('sandboxes')) for (const r of db.prepare('SELECT container_id FROM sandboxes').all() as { container_id: string }[]) leaks.push(`sandbox row ${r.container_id}`);
      if (has('endpoints')) for (const r of db.prepare('SELECT record FROM endpoints').all() as { record: string }[]) {
        const e = JSON.parse(r.record) as { containerId: string; ipAddress: string };
        if (e.ipAddress) leaks.push(`endpoint with an address ${e.containerId} ${e.ipAddress}`);
      }
    } finally {
      db.close();
    }
  }
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string; master?: string }[];
  for (const l of links) {
    if (bridges.has(l.ifname)) {
      if (!running) leaks.push(`bridge ${l.ifname}`);
    } else if (l.master && bridges.has(l.master) && !(running && /^ba[0-9a-f]{10}$/.test(l.ifname))) leaks.push(`veth ${l.ifname} on ${l.master}`);
  }
  const prefix = net.pool.split('.').slice(0, 2).join('.') + '.';
  for (const table of ['filter', 'nat']) {
    const rules = (await run('iptables', ['-w', '-t', table, '-S'])).stdout;
    for (const rule of rules.split('\n')) {
      // a running daemon keeps its networks' chains with their bridges; a stopped one keeps none
      if (!running && table === 'nat' && rule.startsWith('-N ') && chains.has(rule.slice(3))) leaks.push(`iptables -t nat chain ${rule.slice(3)}`);
      if (!rule.includes(` ${prefix}`) && !rule.includes(`destination ${prefix}`)) continue;
      // a container's rules name its ports; the network's own (masquerade, forward) name only the subnet
      if (running && !/--dport|--to-destination/.test(rule)) continue;
      leaks.push(`iptables -t ${table} ${rule}`);
    }
  }
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      if (!running && args.includes('aardvark-dns') && args.includes(execRoot)) leaks.push(`aardvark-dns ${entry}: ${args}`);
    } catch {
      // gone
    }
  }
  return leaks;
}

async function daemonRunning(base: string): Promise<boolean> {
  const socket = join(base, 's.sock');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (args.includes('daemon') && args.some((a) => a.includes(socket))) return true;
    } catch {
      // gone
    }
  }
  return false;
}
