// What must hold after any crash and restart, checked from outside the daemon (its SQLite file,
// its directories, the kernel's mounts, processes and cgroups) against what its API answers:
// every object fully there or fully gone, nothing left behind by a step that was cut short.
// Each check returns readable problems; an empty list means the invariants hold.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { findProcesses, type Daemon } from '../e2e/harness.js';

const run = promisify(execFile);

/** How many times the invariants were checked, and how many objects and relations they compared. */
export const tally = { runs: 0, comparisons: 0 };

const ID = /^[0-9a-f]{64}$/;

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

function diff(what: string, api: Iterable<string>, disk: Iterable<string>): string[] {
  const a = new Set(api);
  const b = new Set(disk);
  tally.comparisons += new Set([...a, ...b]).size;
  return [
    ...[...a].filter((x) => !b.has(x)).map((x) => `${what}: ${x} in the first view only`),
    ...[...b].filter((x) => !a.has(x)).map((x) => `${what}: ${x} in the second view only`),
  ];
}

interface Rows {
  integrity: string;
  containers: string[];
  images: string[];
  layerRows: string[];
  usedChains: Set<string>;
  imageBlobs: Set<string>;
  leasedBlobs: Set<string>;
  volumes: string[];
  networks: string[];
  endpointContainers: string[];
  sandboxes: string[];
  endpoints: { containerId: string; ipAddress: string }[];
  bridges: string[];
}

function readRows(dataRoot: string): Rows {
  const db = new Database(join(dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
  try {
    const col = (sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((r) => String(r[0]));
    return {
      integrity: col('PRAGMA integrity_check').join('; '),
      containers: col('SELECT id FROM containers'),
      images: col('SELECT id FROM images'),
      layerRows: col('SELECT chain_id FROM layers'),
      usedChains: new Set([...col('SELECT chain_id FROM image_layers'), ...col('SELECT chain_id FROM container_layers')]),
      imageBlobs: new Set(col('SELECT digest FROM image_blobs')),
      leasedBlobs: new Set(col('SELECT digest FROM blob_leases')),
      volumes: col('SELECT name FROM volumes'),
      networks: col('SELECT id FROM networks'),
      endpointContainers: col('SELECT DISTINCT container_id FROM endpoints'),
      sandboxes: col('SELECT container_id FROM sandboxes'),
      endpoints: col('SELECT record FROM endpoints').map((r) => JSON.parse(r) as { containerId: string; ipAddress: string }),
      bridges: col('SELECT record FROM networks').map((r) => (JSON.parse(r) as { bridge?: string }).bridge ?? '').filter((b) => b),
    };
  } finally {
    db.close();
  }
}

async function cgroupDirsOf(ids: Iterable<string>): Promise<string[]> {
  const found: string[] = [];
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : (await list('/sys/fs/cgroup')).map((c) => join('/sys/fs/cgroup', c));
  for (const id of ids) for (const r of roots) if (existsSync(join(r, 'berth', id))) found.push(join(r, 'berth', id));
  return found;
}

/**
 * Checks a running daemon. `everMade`: every container id the test created (cgroups are not
 * named after roots, so only these are looked for).
 */
export async function invariantProblems(d: Daemon, everMade: Iterable<string> = []): Promise<string[]> {
  tally.runs++;
  const problems: string[] = [];
  const rows = readRows(d.dataRoot);
  if (rows.integrity !== 'ok') problems.push(`sqlite integrity_check: ${rows.integrity}`);

  // containers: API = rows = snapshot dirs = bundle dirs
  const ps = await d.api('GET', '/containers/json?all=1');
  if (ps.status !== 200) return [...problems, `GET /containers/json: ${ps.status} ${ps.text}`];
  const apiContainers = ps.json as { Id: string; State: string }[];
  const running = new Set(apiContainers.filter((c) => c.State === 'running' || c.State === 'paused').map((c) => c.Id));
  problems.push(...diff('containers (API vs rows)', apiContainers.map((c) => c.Id), rows.containers));
  problems.push(...diff('containers (rows vs snapshot dirs)', rows.containers, (await list(join(d.dataRoot, 'snapshots', 'containers'))).filter((n) => ID.test(n))));
  problems.push(...diff('containers (rows vs bundle dirs)', rows.containers, (await list(join(d.dataRoot, 'containers'))).filter((n) => ID.test(n))));
  for (const c of apiContainers) if (c.State === 'removing' || c.State === 'dead') problems.push(`container ${c.Id} left ${c.State}`);

  // a running container's task; nothing of a stopped one's
  problems.push(...diff('runc state (running vs exec-root/runc)', running, await list(join(d.execRoot, 'runc'))));
  const roots = [d.dataRoot, d.execRoot];
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => roots.some((r) => p.startsWith(`${r}/`)));
  for (const m of mounts) if (![...running].some((id) => m.includes(id))) problems.push(`mount of no running container: ${m}`);
  for (const p of await findProcesses(roots, 'conmon')) {
    const m = / -c ([0-9a-f]{64})\b/.exec(p.args);
    if (!m || !running.has(m[1]!)) problems.push(`conmon of no running container: ${p.pid} ${p.args.slice(0, 200)}`);
  }
  for (const cg of await cgroupDirsOf([...new Set(everMade)].filter((id) => !running.has(id)))) problems.push(`cgroup of a stopped or removed container: ${cg}`);

  // networks: endpoints of existing containers, plumbing only for running ones
  const known = new Set(rows.containers);
  for (const id of rows.endpointContainers) if (!known.has(id)) problems.push(`endpoint rows of a missing container ${id}`);
  for (const id of rows.sandboxes) if (!running.has(id)) problems.push(`sandbox row of a container not running: ${id}`);
  for (const f of await list(join(d.execRoot, 'netns'))) if (!running.has(f)) problems.push(`netns file of a container not running: ${f}`);
  const nets = await d.api('GET', '/networks');
  problems.push(...diff('networks (API vs rows)', ((nets.json ?? []) as { Id: string }[]).map((n) => n.Id), rows.networks));
  problems.push(...(await plumbingProblems(d, rows, running)));

  // volumes: API = rows = dirs
  const vols = await d.api('GET', '/volumes');
  problems.push(...diff('volumes (API vs rows)', (((vols.json as { Volumes: { Name: string }[] | null })?.Volumes) ?? []).map((v) => v.Name), rows.volumes));
  problems.push(...diff('volumes (rows vs dirs)', rows.volumes, (await list(join(d.dataRoot, 'volumes'))).filter((n) => !n.startsWith('.') && n !== 'metadata.db')));

  // images: API = rows; layer dirs = layer rows, each used; blobs named by an image or a lease
  const imgs = await d.api('GET', '/images/json?all=1');
  problems.push(...diff('images (API vs rows)', ((imgs.json ?? []) as { Id: string }[]).map((i) => i.Id), rows.images));
  const layerDirs = (await list(join(d.dataRoot, 'snapshots', 'layers'))).filter((n) => !n.startsWith('.'));
  problems.push(...diff('layers (rows vs dirs)', rows.layerRows.map((c) => c.replace(/^sha256:/, '')), layerDirs.map((c) => c.replace(/^sha256:/, ''))));
  for (const c of rows.layerRows) if (!rows.usedChains.has(c)) problems.push(`layer ${c} used by no image or container`);
  const blobs = (await list(join(d.dataRoot, 'content', 'blobs', 'sha256'))).map((h) => `sha256:${h}`);
  const blobSet = new Set(blobs);
  for (const b of blobs) if (!rows.imageBlobs.has(b) && !rows.leasedBlobs.has(b)) problems.push(`blob ${b} named by no image or lease`);
  for (const b of rows.imageBlobs) if (!blobSet.has(b)) problems.push(`blob ${b} of an image is missing`);
  for (const f of await list(join(d.dataRoot, 'content', 'ingest'))) problems.push(`ingest leftover ${f}`);
  for (const f of (await list(join(d.dataRoot, 'snapshots', 'layers'))).filter((n) => n.startsWith('.tmp-'))) problems.push(`unpack leftover ${f}`);
  return problems;
}

/**
 * The host's side of the networks: one veth on the daemon's bridges per address a running
 * container holds (the bridges' anchors aside), and every port's DNAT rule to an address one holds.
 */
async function plumbingProblems(d: Daemon, rows: Rows, running: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  const held = rows.endpoints.filter((e) => e.ipAddress && running.has(e.containerId)).map((e) => e.ipAddress);
  for (const e of rows.endpoints) if (e.ipAddress && !running.has(e.containerId)) problems.push(`address ${e.ipAddress} held by a container not running: ${e.containerId}`);
  const net = JSON.parse(await readFile(join(d.base, 'net.json'), 'utf8')) as { bridge: string; pool: string };
  const bridges = new Set([net.bridge, ...rows.bridges]);
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string; master?: string }[];
  const veths = links.filter((l) => l.master && bridges.has(l.master) && !/^ba[0-9a-f]{10}$/.test(l.ifname)).map((l) => `${l.ifname}@${l.master}`);
  tally.comparisons += veths.length + held.length;
  if (veths.length !== held.length) problems.push(`${veths.length} veths on the daemon's bridges (${veths.join(', ')}) for ${held.length} addresses of running containers`);
  const prefix = net.pool.split('.').slice(0, 2).join('.') + '.';
  for (const table of ['filter', 'nat']) {
    for (const rule of (await run('iptables', ['-w', '-t', table, '-S'])).stdout.split('\n')) {
      // a published port's DNAT names the container's address (its chain's other rules only the subnet)
      if (!/--to-destination/.test(rule) || !rule.includes(prefix)) continue;
      tally.comparisons++;
      if (!held.some((ip) => rule.includes(`${ip}/`) || rule.includes(`${ip}:`) || rule.endsWith(` ${ip}`))) problems.push(`iptables -t ${table} rule of no running container: ${rule}`);
    }
  }
  return problems;
}
