import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import type { ContainerRecord } from './model.js';

const MIGRATIONS = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     created TEXT NOT NULL,
     image_id TEXT NOT NULL,
     config TEXT NOT NULL,       -- config.v2.json: the record without hostConfig
     host_config TEXT NOT NULL   -- hostconfig.json
   )`,
];

/**
 * Containers live in SQLite and, for fast lookups on every request, in a map that mirrors it.
 * The map is only changed after the row write succeeded, so both agree.
 */
export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  private readonly insertStmt: Statement;
  private readonly updateStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly changesStmt: Statement;

  constructor(db: Database) {
    applyMigrations(db, 'containers', MIGRATIONS);
    this.insertStmt = db.prepare(
      'INSERT INTO containers (id, name, created, image_id, config, host_config) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.updateStmt = db.prepare('UPDATE containers SET name = ?, config = ?, host_config = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM containers WHERE id = ?');
    this.changesStmt = db.prepare('SELECT total_changes()').pluck();
    // rows as arrays and the parsed object kept (not copied): a start-up with 10,000 containers
    const rows = db.prepare('SELECT config, host_config FROM containers').raw().all() as [string, string][];
    for (const [config, hostConfig] of rows) {
      const rec = JSON.parse(config) as ContainerRecord;
      rec.hostConfig = JSON.parse(hostConfig) as ContainerRecord['hostConfig'];
      this.byId.set(rec.id, rec);
      this.byName.set(rec.name, rec.id);
    }
  }

  insert(rec: ContainerRecord): void {
    const { hostConfig, ...rest } = rec;
    this.insertStmt.run(rec.id, rec.name, rec.created, rec.imageId, JSON.stringify(rest), JSON.stringify(hostConfig));
    this.byId.set(rec.id, rec);
    this.byName.set(rec.name, rec.id);
  }

  /** Persist the record after an in-place change. */
  save(rec: ContainerRecord): void {
    const { hostConfig, ...rest } = rec;
    this.updateStmt.run(rec.name, JSON.stringify(rest), JSON.stringify(hostConfig), rec.id);
  }

  rename(rec: ContainerRecord, newName: string): void {
    const old = rec.name;
    rec.name = newName;
    try {
      this.save(rec);
    } catch (err) {
      rec.name = old;
      throw err;
    }
    this.byName.delete(old);
    this.byName.set(newName, rec.id);
  }

  delete(id: string): void {
    const rec = this.byId.get(id);
    this.deleteStmt.run(id);
    if (rec) this.byName.delete(rec.name);
    this.byId.delete(id);
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  idByName(name: string): string | undefined {
    return this.byName.get(name);
  }

  /** Rows written on this connection so far, by any store (list-cache.ts keys on it). */
  changes(): number {
    return this.changesStmt.get() as number;
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }
}
