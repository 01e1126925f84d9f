// After a fuzz run: remove everything the run made through the API (containers, images,
// volumes, networks, build cache), then look in the data root, without asking the daemon,
// for what is left: snapshot dirs, blobs, ingest files, container dirs, volume dirs and rows.
// With nothing in use, every one of them should be gone.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Daemon } from '../e2e/harness.js';

const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'];

export async function removeEverything(d: Daemon): Promise<string[]> {
  const problems: string[] = [];
  const want = async (method: string, path: string, ok: number[]) => {
    const r = await d.api(method, path, undefined, { timeoutMs: 120_000 });
    if (!ok.includes(r.status)) problems.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r;
  };
  const cs = await want('GET', '/containers/json?all=1', [200]);
  for (const c of cs.json ?? []) await want('DELETE', `/containers/${c.Id}?force=1&v=1`, [204, 404]);
  const nets = await want('GET', '/networks', [200]);
  for (const n of nets.json ?? []) if (!PREDEFINED_NETWORKS.includes(n.Name)) await want('DELETE', `/networks/${n.Id}`, [204, 404]);
  const vols = await want('GET', '/volumes', [200]);
  for (const v of vols.json?.Volumes ?? []) await want('DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=1`, [204, 404]);
  const imgs = await want('GET', '/images/json?all=1', [200]);
  for (const i of imgs.json ?? []) await want('DELETE', `/images/${i.Id}?force=1`, [200, 404]);
  await want('POST', '/build/prune?all=1', [200]);
  return problems;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).map((e) => join(dir, e));
  } catch {
    return [];
  }
}

/** Files and rows left in the data root once everything was removed. */
export async function dataRootResidue(dataRoot: string): Promise<string[]> {
  const left: string[] = [];
  // volumes/.removing is the local driver's trash dir: kept once made, only what is in it is residue
  for (const dir of ['containers', 'snapshots/containers', 'snapshots/layers', 'content/blobs/sha256', 'content/ingest', 'content/partial', 'volumes', 'volumes/.removing']) {
    for (const e of await entries(join(dataRoot, dir))) if (!e.endsWith('.db') && !e.endsWith('/volumes/.removing')) left.push(e);
  }
  const dbPath = join(dataRoot, 'berth.db');
  if (existsSync(dbPath)) {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
        if (name === 'schema_migrations' || name.startsWith('sqlite_')) continue;
        const n = (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
        const allowed = name === 'networks' ? PREDEFINED_NETWORKS.length : 0;
        if (n > allowed) left.push(`table ${name}: ${n} rows`);
      }
    } finally {
      db.close();
    }
  }
  return left;
}
