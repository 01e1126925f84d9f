// The classic builder's layer cache, as moby's local image cache: a step is a hit when an image
// made from the same parent by a step with the same run config exists. moby scans the parent's
// children comparing each one's ContainerConfig (image/cache/compare.go); berth keeps one row per
// step image with a digest of those fields, so a lookup is one indexed query. The images are
// ordinary (dangling) images: rmi and prune remove them, and a row whose image is gone is a miss.
import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import type { BuildCacheEntry, BuildCacheStoreApi, RunConfig } from './types.js';

const MIGRATIONS = [
  `CREATE TABLE build_cache (
     image_id TEXT PRIMARY KEY,
     parent TEXT NOT NULL,
     cache_key TEXT NOT NULL,
     description TEXT NOT NULL,
     created_at TEXT NOT NULL,
     last_used_at TEXT,
     usage_count INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX build_cache_lookup ON build_cache(parent, cache_key);`,
];

const sortedKeys = (o: Record<string, unknown> | null | undefined) => Object.keys(o ?? {}).sort();

/**
 * The fields moby's compare() looks at (Cmd with its `#(nop) ` or `|N ARG=...` prefix, Env in
 * order, Labels, ExposedPorts and Volumes as sets, Entrypoint, User) plus the ones a later step
 * could only have changed through a step whose Cmd differs anyway (WorkingDir, Shell, ...), so
 * adding them changes no hit into a miss.
 */
export function cacheKey(config: RunConfig): string {
  const labels = config.Labels ?? {};
  const canonical = {
    User: config.User ?? '',
    Cmd: config.Cmd ?? [],
    Env: config.Env ?? [],
    Labels: sortedKeys(labels).map((k) => [k, labels[k]]),
    ExposedPorts: sortedKeys(config.ExposedPorts),
    Entrypoint: config.Entrypoint ?? [],
    Volumes: sortedKeys(config.Volumes),
    WorkingDir: config.WorkingDir ?? '',
    Shell: config.Shell ?? [],
    StopSignal: config.StopSignal ?? '',
    Healthcheck: config.Healthcheck ?? null,
    OnBuild: config.OnBuild ?? [],
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

interface Row {
  image_id: string;
  parent: string;
  description: string;
  created_at: string;
  last_used_at: string | null;
  usage_count: number;
}

export class BuildCacheStore implements BuildCacheStoreApi {
  private readonly st: Record<string, Statement>;

  constructor(db: Database) {
    applyMigrations(db, 'build-cache', MIGRATIONS);
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      lookup: p('SELECT image_id FROM build_cache WHERE parent = ? AND cache_key = ? ORDER BY created_at DESC, rowid DESC'),
      insert: p(
        'INSERT OR REPLACE INTO build_cache (image_id, parent, cache_key, description, created_at, last_used_at, usage_count) VALUES (?, ?, ?, ?, ?, NULL, 0)',
      ),
      used: p('UPDATE build_cache SET last_used_at = ?, usage_count = usage_count + 1 WHERE image_id = ?'),
      all: p('SELECT image_id, parent, description, created_at, last_used_at, usage_count FROM build_cache ORDER BY rowid'),
      del: p('DELETE FROM build_cache WHERE image_id = ?'),
    };
  }

  /** The newest image a step with `config` made on `parent` ('' for scratch) that still `exists`. */
  find(parent: string, config: RunConfig, exists: (id: string) => boolean): string | undefined {
    const ids = (this.st.lookup.all(parent, cacheKey(config)) as { image_id: string }[]).map((r) => r.image_id);
    for (const id of ids) {
      if (exists(id)) {
        this.st.used.run(new Date().toISOString(), id);
        return id;
      }
      this.st.del.run(id);
    }
    return undefined;
  }

  record(imageId: string, parent: string, config: RunConfig, description: string): void {
    this.st.insert.run(imageId, parent, cacheKey(config), description, new Date().toISOString());
  }

  entries(): BuildCacheEntry[] {
    return (this.st.all.all() as Row[]).map((r) => ({
      id: r.image_id,
      parent: r.parent,
      description: r.description,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      usageCount: r.usage_count,
    }));
  }

  delete(ids: string[]): void {
    for (const id of ids) this.st.del.run(id);
  }
}
