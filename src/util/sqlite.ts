import type { Database } from 'better-sqlite3';

/**
 * Each layer owns its tables and applies its own numbered migrations, so images and engine
 * never edit each other's schema. Versions are tracked per module in one table.
 */
export function applyMigrations(db: Database, module: string, steps: string[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)`);
  const row = db.prepare('SELECT version FROM schema_migrations WHERE module = ?').get(module) as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  if (current > steps.length) {
    throw new Error(`database schema of ${module} is version ${current}, newer than this berth knows (${steps.length})`);
  }
  const run = db.transaction(() => {
    for (let v = current; v < steps.length; v++) db.exec(steps[v]);
    db.prepare('INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version').run(module, steps.length);
  });
  run();
}
