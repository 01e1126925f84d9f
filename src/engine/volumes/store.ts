// The `volumes` table (the local driver's metadata, moby's volumes.db and opts.json in one row),
// mirrored in a map: list and inspect never touch the disk.
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import type { VolumeRecord } from './model.js';

const MIGRATIONS = [
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY,
     driver TEXT NOT NULL,
     labels TEXT,              -- JSON object or NULL
     options TEXT,             -- JSON object or NULL
     created TEXT NOT NULL,
     anonymous INTEGER NOT NULL
   )`,
  `ALTER TABLE volumes ADD COLUMN made_for TEXT`,
];

export class VolumeStore {
  private readonly byName = new Map<string, VolumeRecord>();
  private readonly insertStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly madeForStmt: Statement;

  constructor(db: Database) {
    applyMigrations(db, 'volumes', MIGRATIONS);
    this.insertStmt = db.prepare('INSERT INTO volumes (name, driver, labels, options, created, anonymous, made_for) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM volumes WHERE name = ?');
    this.madeForStmt = db.prepare('UPDATE volumes SET made_for = NULL WHERE name = ?');
    const rows = db.prepare('SELECT name, driver, labels, options, created, anonymous, made_for FROM volumes').all() as {
      name: string;
      driver: string;
      labels: string | null;
      options: string | null;
      created: string;
      anonymous: number;
      made_for: string | null;
    }[];
    for (const r of rows) {
      this.byName.set(r.name, {
        name: r.name,
        driver: r.driver,
        labels: r.labels === null ? null : JSON.parse(r.labels),
        options: r.options === null ? null : JSON.parse(r.options),
        created: r.created,
        anonymous: r.anonymous === 1,
        ...(r.made_for !== null ? { madeFor: r.made_for } : {}),
      });
    }
  }

  insert(v: VolumeRecord): void {
    this.insertStmt.run(v.name, v.driver, v.labels === null ? null : JSON.stringify(v.labels), v.options === null ? null : JSON.stringify(v.options), v.created, v.anonymous ? 1 : 0, v.madeFor ?? null);
    this.byName.set(v.name, v);
  }

  /** The create the volume was made for has its row: the volume is an ordinary one now. */
  clearMadeFor(name: string): void {
    const v = this.byName.get(name);
    if (v?.madeFor === undefined) return;
    this.madeForStmt.run(name);
    delete v.madeFor;
  }

  delete(name: string): void {
    this.deleteStmt.run(name);
    this.byName.delete(name);
  }

  get(name: string): VolumeRecord | undefined {
    return this.byName.get(name);
  }

  all(): VolumeRecord[] {
    return [...this.byName.values()];
  }
}
