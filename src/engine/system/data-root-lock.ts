// Only one daemon may own a data-root. The lock is a SQLite database held in exclusive locking
// mode: the kernel drops the underlying fcntl lock when the process dies, so a crashed daemon
// never leaves a stale lock behind (a pid file would).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';

export class DataRootLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(dataRoot: string): DataRootLock {
    const path = join(dataRoot, 'berth.lock');
    const db = new Database(path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT;');
    } catch {
      db.close();
      let owner = '';
      try {
        owner = readFileSync(`${path}.pid`, 'utf8').trim();
      } catch {
        // no pid recorded
      }
      throw new Error(
        `another berth daemon${owner ? ` (pid ${owner})` : ''} is already using the data-root ${dataRoot}; stop it first or choose another --data-root`,
      );
    }
    writeFileSync(`${path}.pid`, `${process.pid}\n`);
    return new DataRootLock(db);
  }

  release(): void {
    this.db.close();
  }
}
