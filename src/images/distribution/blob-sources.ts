// Where a layer's compressed blobs are known to live, as moby's v2 metadata service keeps it:
// diffID -> (blob digest, repository) for every push that uploaded, mounted or found a layer.
// A later push HEADs those digests (a layer gzipped on the fly has no digest of its own until it
// was pushed once) and mounts from another repository of the same registry instead of uploading.
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';

export interface BlobSource {
  digest: string;
  /** Fully normalised repository name, e.g. '127.0.0.1:5000/app' or 'docker.io/library/busybox'. */
  repository: string;
}

const MIGRATIONS = [
  `CREATE TABLE blob_sources (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     diff_id TEXT NOT NULL,
     digest TEXT NOT NULL,
     repository TEXT NOT NULL,
     UNIQUE (diff_id, digest, repository)
   );
   CREATE INDEX blob_sources_diff ON blob_sources(diff_id);`,
  // A compressed blob's diffID, once worked out by decompressing it (moby's diffid-by-digest):
  // a docker-archive of gzip layers names no diffID per layer blob.
  `CREATE TABLE blob_diff_ids (
     digest TEXT PRIMARY KEY,
     diff_id TEXT NOT NULL
   );`,
];

/** Entries kept per diffID, newest first (moby keeps 50 per layer). */
const PER_LAYER = 50;

export class BlobSources {
  private readonly st: Record<string, Statement>;

  constructor(private readonly db: Database) {
    applyMigrations(db, 'blob-sources', MIGRATIONS);
    this.st = {
      forDiff: db.prepare('SELECT digest, repository FROM blob_sources WHERE diff_id = ? ORDER BY seq DESC'),
      // re-adding moves an entry to the front: newest first is the order candidates are tried in
      remove: db.prepare('DELETE FROM blob_sources WHERE diff_id = ? AND digest = ? AND repository = ?'),
      add: db.prepare('INSERT INTO blob_sources (diff_id, digest, repository) VALUES (?, ?, ?)'),
      diffIdOf: db.prepare('SELECT diff_id FROM blob_diff_ids WHERE digest = ?'),
      setDiffId: db.prepare('INSERT OR REPLACE INTO blob_diff_ids (digest, diff_id) VALUES (?, ?)'),
      trim: db.prepare('DELETE FROM blob_sources WHERE diff_id = ? AND seq NOT IN (SELECT seq FROM blob_sources WHERE diff_id = ? ORDER BY seq DESC LIMIT ?)'),
    };
  }

  /** Known blobs of the layer, newest first. */
  forDiffId(diffId: string): BlobSource[] {
    return this.st.forDiff.all(diffId) as BlobSource[];
  }

  add(diffId: string, src: BlobSource): void {
    this.db.transaction(() => {
      this.st.remove.run(diffId, src.digest, src.repository);
      this.st.add.run(diffId, src.digest, src.repository);
      this.st.trim.run(diffId, diffId, PER_LAYER);
    })();
  }

  /** The diffID of a compressed blob, when one was worked out before. */
  diffIdOf(digest: string): string | undefined {
    return (this.st.diffIdOf.get(digest) as { diff_id: string } | undefined)?.diff_id;
  }

  setDiffId(digest: string, diffId: string): void {
    this.st.setDiffId.run(digest, diffId);
  }

  /** The registry said it does not have it (any more). */
  remove(diffId: string, src: BlobSource): void {
    this.st.remove.run(diffId, src.digest, src.repository);
  }
}
