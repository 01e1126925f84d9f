// Blobs kept for a pull that did not finish, as containerd's GC leases keep an unfinished
// pull's content: a layer that was fully downloaded and verified stays under a lease until
// an image takes it, the lease expires, or a prune drops it, so the next pull of the image
// fetches only the rest. The rows outlive a daemon killed mid-pull.
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';

const MIGRATIONS = [
  `CREATE TABLE blob_leases (
     digest TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );`,
];

/** How long an unfinished pull's blobs are kept (containerd's pull lease is 24 h too). */
export const LEASE_TTL_MS = 24 * 60 * 60 * 1000;

export interface BlobLease {
  digest: string;
  /** ms since the epoch */
  expiresAt: number;
}

export class BlobLeases {
  private readonly st: Record<string, Statement>;

  constructor(db: Database) {
    applyMigrations(db, 'image-leases', MIGRATIONS);
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      put: p('INSERT INTO blob_leases (digest, expires_at) VALUES (?, ?) ON CONFLICT(digest) DO UPDATE SET expires_at = excluded.expires_at'),
      drop: p('DELETE FROM blob_leases WHERE digest = ?'),
      get: p('SELECT expires_at AS expiresAt FROM blob_leases WHERE digest = ?'),
      all: p('SELECT digest, expires_at AS expiresAt FROM blob_leases ORDER BY expires_at'),
    };
  }

  put(digest: string, now = Date.now()): void {
    this.st.put.run(digest, now + LEASE_TTL_MS);
  }

  drop(digest: string): void {
    this.st.drop.run(digest);
  }

  /** Whether a lease keeps `digest` (an expired one does not). */
  holds(digest: string, now = Date.now()): boolean {
    const row = this.st.get.get(digest) as { expiresAt: number } | undefined;
    return row !== undefined && row.expiresAt > now;
  }

  list(): BlobLease[] {
    return this.st.all.all() as BlobLease[];
  }
}
