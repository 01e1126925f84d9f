// Networks and endpoints in SQLite, mirrored in maps (every container start and inspect reads
// them). The maps change only after the row write succeeded.
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import { isDockerNetwork, type EndpointRecord, type NetworkRecord, type SandboxRecord } from './model.js';

const MIGRATIONS = [
  `CREATE TABLE networks (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     record TEXT NOT NULL
   );
   CREATE TABLE endpoints (
     container_id TEXT NOT NULL,
     network_id TEXT NOT NULL REFERENCES networks(id),
     record TEXT NOT NULL,
     PRIMARY KEY (container_id, network_id)
   );
   CREATE INDEX endpoints_by_network ON endpoints(network_id);
   CREATE TABLE sandboxes (
     container_id TEXT PRIMARY KEY,
     record TEXT NOT NULL
   );`,
  // A stopped container keeps its endpoint on a removed network (Docker's start then says the
  // network is not found): no foreign key to networks.
  `CREATE TABLE endpoints_v2 (
     container_id TEXT NOT NULL,
     network_id TEXT NOT NULL,
     record TEXT NOT NULL,
     PRIMARY KEY (container_id, network_id)
   );
   INSERT INTO endpoints_v2 SELECT container_id, network_id, record FROM endpoints;
   DROP TABLE endpoints;
   ALTER TABLE endpoints_v2 RENAME TO endpoints;
   CREATE INDEX endpoints_by_network ON endpoints(network_id);`,
  // Names are unique per namespace (Docker's and the CRI's): a Docker user may name a network
  // berth-cri. The pod network an earlier berth made among Docker's moves to the CRI's.
  `CREATE TABLE networks_v2 (
     id TEXT PRIMARY KEY,
     namespace TEXT NOT NULL DEFAULT '',
     name TEXT NOT NULL,
     record TEXT NOT NULL,
     UNIQUE (namespace, name)
   );
   INSERT INTO networks_v2 (id, namespace, name, record)
     SELECT id, '', name, record FROM networks;
   UPDATE networks_v2 SET namespace = 'k8s.io', record = json_set(record, '$.namespace', 'k8s.io')
     WHERE name = 'berth-cri' AND json_extract(record, '$.labels."io.berth.cri.pod-network"') = 'true';
   DROP TABLE networks;
   ALTER TABLE networks_v2 RENAME TO networks;`,
];

export class NetworkStore {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly byName = new Map<string, string>();
  /** container id -> network id -> endpoint */
  private readonly endpoints = new Map<string, Map<string, EndpointRecord>>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly stmts: Record<'insertNet' | 'updateNet' | 'deleteNet' | 'upsertEp' | 'deleteEp' | 'deleteEps' | 'upsertSb' | 'deleteSb', Statement>;
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
    applyMigrations(db, 'networks', MIGRATIONS);
    this.stmts = {
      insertNet: db.prepare('INSERT INTO networks (id, namespace, name, record) VALUES (?, ?, ?, ?)'),
      updateNet: db.prepare('UPDATE networks SET name = ?, record = ? WHERE id = ?'),
      deleteNet: db.prepare('DELETE FROM networks WHERE id = ?'),
      upsertEp: db.prepare(
        'INSERT INTO endpoints (container_id, network_id, record) VALUES (?, ?, ?) ON CONFLICT(container_id, network_id) DO UPDATE SET record = excluded.record',
      ),
      deleteEp: db.prepare('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?'),
      deleteEps: db.prepare('DELETE FROM endpoints WHERE container_id = ?'),
      upsertSb: db.prepare('INSERT INTO sandboxes (container_id, record) VALUES (?, ?) ON CONFLICT(container_id) DO UPDATE SET record = excluded.record'),
      deleteSb: db.prepare('DELETE FROM sandboxes WHERE container_id = ?'),
    };
    for (const row of db.prepare('SELECT record FROM networks').all() as { record: string }[]) {
      const n = JSON.parse(row.record) as NetworkRecord;
      this.networks.set(n.id, n);
      if (isDockerNetwork(n)) this.byName.set(n.name, n.id);
    }
    for (const row of db.prepare('SELECT record FROM endpoints').all() as { record: string }[]) {
      const e = JSON.parse(row.record) as EndpointRecord;
      this.containerMap(e.containerId).set(e.networkId, e);
    }
    for (const row of db.prepare('SELECT record FROM sandboxes').all() as { record: string }[]) {
      const sb = JSON.parse(row.record) as SandboxRecord;
      this.sandboxes.set(sb.containerId, sb);
    }
  }

  // ---- networks ----

  allNetworks(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  network(id: string): NetworkRecord | undefined {
    return this.networks.get(id);
  }

  /** Docker's network of that name (the CRI's are found by findNetwork over their namespace). */
  networkByName(name: string): NetworkRecord | undefined {
    const id = this.byName.get(name);
    return id ? this.networks.get(id) : undefined;
  }

  insertNetwork(n: NetworkRecord): void {
    this.stmts.insertNet.run(n.id, n.namespace ?? '', n.name, JSON.stringify(n));
    this.networks.set(n.id, n);
    if (isDockerNetwork(n)) this.byName.set(n.name, n.id);
  }

  /** Its namespace never changes. */
  saveNetwork(n: NetworkRecord): void {
    const old = this.networks.get(n.id);
    this.stmts.updateNet.run(n.name, JSON.stringify(n), n.id);
    this.networks.set(n.id, n);
    if (!isDockerNetwork(n)) return;
    if (old && old.name !== n.name) this.byName.delete(old.name);
    this.byName.set(n.name, n.id);
  }

  deleteNetwork(id: string): void {
    const n = this.networks.get(id);
    this.stmts.deleteNet.run(id);
    this.networks.delete(id);
    if (n && isDockerNetwork(n) && this.byName.get(n.name) === id) this.byName.delete(n.name);
  }

  // ---- endpoints ----

  /** The container's endpoints in connection order (eth0 first). */
  endpointsOf(containerId: string): EndpointRecord[] {
    const m = this.endpoints.get(containerId);
    return m ? [...m.values()].sort(byInterface) : [];
  }

  endpoint(containerId: string, networkId: string): EndpointRecord | undefined {
    return this.endpoints.get(containerId)?.get(networkId);
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    for (const m of this.endpoints.values()) {
      const e = m.get(networkId);
      if (e) out.push(e);
    }
    return out;
  }

  allEndpoints(): EndpointRecord[] {
    return [...this.endpoints.values()].flatMap((m) => [...m.values()]);
  }

  saveEndpoint(e: EndpointRecord): void {
    this.stmts.upsertEp.run(e.containerId, e.networkId, JSON.stringify(e));
    this.containerMap(e.containerId).set(e.networkId, e);
  }

  /** Several endpoints at once, all or none (a create naming several networks). */
  saveEndpoints(list: EndpointRecord[]): void {
    this.db.transaction(() => {
      for (const e of list) this.stmts.upsertEp.run(e.containerId, e.networkId, JSON.stringify(e));
    })();
    for (const e of list) this.containerMap(e.containerId).set(e.networkId, e);
  }

  deleteEndpoint(containerId: string, networkId: string): void {
    this.stmts.deleteEp.run(containerId, networkId);
    const m = this.endpoints.get(containerId);
    m?.delete(networkId);
    if (m && m.size === 0) this.endpoints.delete(containerId);
  }

  deleteEndpointsOf(containerId: string): void {
    this.stmts.deleteEps.run(containerId);
    this.endpoints.delete(containerId);
  }

  // ---- sandboxes ----

  sandbox(containerId: string): SandboxRecord | undefined {
    return this.sandboxes.get(containerId);
  }

  allSandboxes(): SandboxRecord[] {
    return [...this.sandboxes.values()];
  }

  saveSandbox(sb: SandboxRecord): void {
    this.stmts.upsertSb.run(sb.containerId, JSON.stringify(sb));
    this.sandboxes.set(sb.containerId, sb);
  }

  deleteSandbox(containerId: string): void {
    this.stmts.deleteSb.run(containerId);
    this.sandboxes.delete(containerId);
  }

  private containerMap(containerId: string): Map<string, EndpointRecord> {
    let m = this.endpoints.get(containerId);
    if (!m) this.endpoints.set(containerId, (m = new Map()));
    return m;
  }
}

function byInterface(a: EndpointRecord, b: EndpointRecord): number {
  const n = (e: EndpointRecord) => (e.interfaceName.startsWith('eth') ? Number(e.interfaceName.slice(3)) : Number.MAX_SAFE_INTEGER);
  return n(a) - n(b) || a.networkId.localeCompare(b.networkId);
}
