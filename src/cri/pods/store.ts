// The `pods` table: a row per sandbox, written before its infra container exists (a run cut
// short leaves a row without one, which the next start removes) and mirrored in a map for the
// lookups kubelet makes many times a second.
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import type { PodSandboxConfigIn } from './sandbox-config.js';

const MIGRATIONS = [
  `CREATE TABLE pods (
     id TEXT PRIMARY KEY,
     name_key TEXT NOT NULL UNIQUE,  -- containerd's sandbox name: metadata is unique per node
     created_ns TEXT NOT NULL,
     runtime_handler TEXT NOT NULL,
     infra_id TEXT NOT NULL,         -- '' until the infra container exists
     state TEXT NOT NULL,            -- 'creating' (RunPodSandbox not done), 'ready', 'stopped'
     ip TEXT NOT NULL,
     config TEXT NOT NULL            -- the PodSandboxConfig as decoded
   )`,
];

export interface PodRow {
  id: string;
  nameKey: string;
  createdNs: string;
  runtimeHandler: string;
  infraId: string;
  /** 'creating' until RunPodSandbox answers: a daemon that died before then left a run to undo. */
  state: 'creating' | 'ready' | 'stopped';
  ip: string;
  config: PodSandboxConfigIn;
}

export class PodStore {
  private readonly rows = new Map<string, PodRow>();
  private readonly insertStmt: Statement;
  private readonly updateStmt: Statement;
  private readonly deleteStmt: Statement;

  constructor(db: Database) {
    applyMigrations(db, 'pods', MIGRATIONS);
    this.insertStmt = db.prepare('INSERT INTO pods (id, name_key, created_ns, runtime_handler, infra_id, state, ip, config) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.updateStmt = db.prepare('UPDATE pods SET infra_id = ?, state = ?, ip = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM pods WHERE id = ?');
    const all = db.prepare('SELECT * FROM pods ORDER BY created_ns').all() as Record<string, string>[];
    for (const r of all) {
      this.rows.set(r.id, {
        id: r.id,
        nameKey: r.name_key,
        createdNs: r.created_ns,
        runtimeHandler: r.runtime_handler,
        infraId: r.infra_id,
        state: r.state === 'stopped' || r.state === 'creating' ? r.state : 'ready',
        ip: r.ip,
        config: JSON.parse(r.config) as PodSandboxConfigIn,
      });
    }
  }

  insert(row: PodRow): void {
    this.insertStmt.run(row.id, row.nameKey, row.createdNs, row.runtimeHandler, row.infraId, row.state, row.ip, JSON.stringify(row.config));
    this.rows.set(row.id, row);
  }

  save(row: PodRow): void {
    this.updateStmt.run(row.infraId, row.state, row.ip, row.id);
    this.rows.set(row.id, row);
  }

  delete(id: string): void {
    this.deleteStmt.run(id);
    this.rows.delete(id);
  }

  get(id: string): PodRow | undefined {
    return this.rows.get(id);
  }

  byNameKey(key: string): PodRow | undefined {
    for (const r of this.rows.values()) if (r.nameKey === key) return r;
    return undefined;
  }

  all(): PodRow[] {
    return [...this.rows.values()];
  }
}
