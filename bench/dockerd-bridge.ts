/**
 * The Linux bridge the bench's second dockerd runs its default network on, and the cleanup of
 * what that dockerd leaves in iptables.
 *
 * dockerd takes `--bridge NAME` only for a bridge that exists (it creates docker0 alone), and
 * then uses the bridge's own address as the default network's subnet (`--bip` and `--bridge`
 * exclude each other). So the bench creates the bridge with a /24 that no route on the host
 * covers (never docker0, never 172.17.0.0/16, never berth's), and dockerd runs with
 * --iptables=true as it would on a real host. dockerd does not remove its chains when it stops:
 * afterwards every rule that names the bench bridge, its subnet or a DOCKER* chain goes, then
 * the DOCKER* chains, then the bridge; the FORWARD policy is put back as it was. The bench
 * refuses to start this dockerd when DOCKER* chains already exist (someone else's dockerd owns
 * them).
 */
import { runCommand } from '../test/e2e/harness.js';

export const BENCH_BRIDGE = 'bdbench0';
const TABLES = ['filter', 'nat'] as const;

async function sh(cmd: string): Promise<string> {
  const r = await runCommand('sh', ['-c', cmd]);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const ipToInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/** Routes on the host as [first, last] address ranges (IPv4). */
async function routedRanges(): Promise<[number, number][]> {
  const out = await sh('ip -4 route show table all');
  const ranges: [number, number][] = [];
  for (const line of out.split('\n')) {
    const m = /^(?:\S+ )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?\b/.exec(line.replace(/^(local|broadcast|unicast) /, ''));
    if (!m) continue;
    const len = m[2] === undefined ? 32 : Number(m[2]);
    const size = 2 ** (32 - len);
    const first = Math.floor(ipToInt(m[1]!) / size) * size;
    ranges.push([first, first + size - 1]);
  }
  return ranges;
}

export interface BenchBridge {
  name: string;
  subnet: string;
  /** Removes the bridge and every iptables trace of the dockerd that used it. */
  cleanup(): Promise<void>;
}

async function dockerChains(): Promise<string[]> {
  const found: string[] = [];
  for (const t of TABLES) {
    for (const line of (await sh(`iptables -t ${t} -S`)).split('\n')) {
      const m = /^-N (DOCKER\S*)/.exec(line);
      if (m) found.push(`${t}/${m[1]}`);
    }
  }
  return found;
}

export async function createBenchBridge(avoid: string[] = []): Promise<BenchBridge> {
  const existing = await dockerChains();
  if (existing.length > 0) throw new Error(`iptables already has dockerd's chains (${existing.join(', ')}): another dockerd with --iptables runs here`);
  if ((await runCommand('ip', ['link', 'show', BENCH_BRIDGE])).code === 0) throw new Error(`${BENCH_BRIDGE} already exists (a bench that did not clean up?)`);
  const taken = await routedRanges();
  for (const cidr of avoid) {
    const [ip, len] = cidr.split('/');
    const size = 2 ** (32 - Number(len));
    const first = Math.floor(ipToInt(ip!) / size) * size;
    taken.push([first, first + size - 1]);
  }
  let subnet = '';
  for (let x = 200; x < 250 && subnet === ''; x++) {
    const first = ipToInt(`10.${x}.77.0`);
    if (!taken.some(([a, b]) => a <= first + 255 && first <= b)) subnet = `10.${x}.77.0/24`;
  }
  if (subnet === '') throw new Error('no free /24 for the bench bridge');
  const gateway = subnet.replace(/\.0\/24$/, '.1/24');
  const policy = /^-P FORWARD (\S+)/m.exec(await sh('iptables -S FORWARD'))?.[1] ?? 'ACCEPT';
  await sh(`ip link add ${BENCH_BRIDGE} type bridge && ip addr add ${gateway} dev ${BENCH_BRIDGE} && ip link set ${BENCH_BRIDGE} up`);
  const cleanup = async (): Promise<void> => {
    const problems: string[] = [];
    const net = subnet.replace(/\/24$/, '');
    const prefix = subnet.replace(/\.0\/24$/, '.');
    for (const t of TABLES) {
      const rules = (await sh(`iptables -t ${t} -S`)).split('\n').filter((l) => l.startsWith('-A '));
      for (const rule of rules) {
        const chain = rule.split(' ')[1]!;
        const ours = chain.startsWith('DOCKER') || / -j DOCKER\S*/.test(rule) || rule.includes(` ${BENCH_BRIDGE} `) || rule.endsWith(` ${BENCH_BRIDGE}`) || rule.includes(net) || rule.includes(` ${prefix}`);
        if (!ours) continue;
        // -S prints rules in iptables' own quoting, which sh reads back
        const r = await runCommand('sh', ['-c', `iptables -t ${t} ${rule.replace(/^-A /, '-D ')}`]);
        if (r.code !== 0) problems.push(`${t}: ${rule}: ${r.stderr.trim()}`);
      }
      for (const line of (await sh(`iptables -t ${t} -S`)).split('\n')) {
        const m = /^-N (DOCKER\S*)/.exec(line);
        if (!m) continue;
        const r = await runCommand('sh', ['-c', `iptables -t ${t} -F ${m[1]} && iptables -t ${t} -X ${m[1]}`]);
        if (r.code !== 0) problems.push(`${t}: chain ${m[1]}: ${r.stderr.trim()}`);
      }
    }
    await runCommand('iptables', ['-P', 'FORWARD', policy]);
    const del = await runCommand('ip', ['link', 'del', BENCH_BRIDGE]);
    if (del.code !== 0) problems.push(`ip link del ${BENCH_BRIDGE}: ${del.stderr.trim()}`);
    if (problems.length > 0) throw new Error(`bench bridge cleanup:\n${problems.join('\n')}`);
  };
  return { name: BENCH_BRIDGE, subnet, cleanup };
}
