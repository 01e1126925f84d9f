// What a load run left behind on its daemon, while the daemon runs: containers it still lists,
// and (through the e2e harness's leak check) mounts, conmon processes, runc state, rows,
// network objects, and the cgroups of the run's own containers (other daemons' are not ours).
import { leakCheck, type Daemon } from '../e2e/harness.js';
import { call } from './client.js';

export async function leftovers(d: Daemon, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  const list = await call(d.socket, 'GET', '/containers/json?all=1');
  if (list.status !== 200) out.push(`list: ${list.status} ${list.text}`);
  else for (const c of JSON.parse(list.text) as { Id: string; Names: string[] }[]) out.push(`container ${c.Id} ${c.Names.join(',')}`);
  const l = await leakCheck(d.dataRoot, d.execRoot);
  const mine = new Set(ids);
  out.push(...l.mounts.map((m) => `mount ${m}`));
  out.push(...l.conmons.map((m) => `conmon ${m}`));
  out.push(...l.runcState.map((m) => `runc state ${m}`));
  out.push(...l.rows.map((m) => `row ${m}`));
  out.push(...(l.network ?? []).map((m) => `network ${m}`));
  out.push(...(l.volumeMounts ?? []).map((m) => `volume mount ${m}`));
  out.push(...l.cgroups.filter((c) => mine.has(c.slice(c.lastIndexOf('/') + 1))).map((m) => `cgroup ${m}`));
  return out;
}
