// POST /build/prune (`docker builder prune`) for the classic builder's cache, with the options of
// moby's builder-next toBuildkitPruneInfo: all, keep-storage, filters until (or its old name
// unused-for) and the single-valued record fields id, parent, type, description, inuse, shared,
// private. Without `all` only dangling entries go: those no kept image shares a layer with. An
// entry's row is forgotten and its image removed through rmi (untagged parents nothing else
// needs go with it), so an image a container or a tagged image needs stays.
import type { Filters } from '../../api/filters.js';
import { InvalidParameterError } from '../../errors.js';
import type { BuildCacheStoreApi } from '../../images/build/types.js';
import type { ImageDeleteItem } from '../../images/types.js';
import { parseUntil } from '../containers/prune.js';
import type { CacheRecordWithEntry } from './build-cache-records.js';

export interface BuildCachePruneReport {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface BuilderPruneOptions {
  all: boolean;
  /** Bytes of cache to keep (the least recently used entries go first); 0 keeps none. */
  keepStorage: number;
  filters: Filters;
}

const CACHE_FIELDS = ['id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'];

interface Selector {
  olderThan?: number;
  match: (r: CacheRecordWithEntry) => boolean;
}

/** moby's toBuildkitPruneInfo checks, then the record matcher (buildkit's `==`, and `~=` for id). */
export function parseBuilderPruneFilters(filters: Filters, now = Date.now()): Selector {
  const until = filters.get('until');
  const unusedFor = filters.get('unused-for');
  if (until.length > 0 && unusedFor.length > 0) throw new InvalidParameterError('conflicting filters: "until" and "unused-for"');
  const key = unusedFor.length > 0 ? 'unused-for' : 'until';
  const values = [...until, ...unusedFor];
  if (values.length > 1) throw new InvalidParameterError('filters expect only one value');
  let olderThan: number | undefined;
  if (values.length === 1) {
    try {
      olderThan = parseUntil(values[0], now).getTime();
    } catch (err) {
      throw new InvalidParameterError(`"${key}" filter expects a duration (e.g., '24h') or a timestamp: ${(err as Error).message}`);
    }
  }
  const checks: ((r: CacheRecordWithEntry) => boolean)[] = [];
  for (const field of CACHE_FIELDS) {
    if (!filters.has(field)) continue;
    const v = filters.get(field);
    if (v.length > 1) throw new InvalidParameterError('filters expect only one value');
    const value = v[0];
    checks.push((r) => {
      const rec = r.record;
      switch (field) {
        case 'id':
          return value === undefined || rec.ID.includes(value);
        case 'parent':
          return value === undefined || (rec.Parents ?? []).includes(value);
        case 'type':
          return value === undefined || rec.Type === value;
        case 'description':
          return value === undefined || rec.Description === value;
        case 'inuse':
          return value === undefined ? rec.InUse : String(rec.InUse) === value;
        case 'shared':
          return value === undefined ? rec.Shared : String(rec.Shared) === value;
        case 'private':
          return value === undefined ? !rec.Shared : String(!rec.Shared) === value;
      }
      return true;
    });
  }
  return { olderThan, match: (r) => checks.every((c) => c(r)) };
}

export interface PrunableCache {
  cache: BuildCacheStoreApi;
  records(): CacheRecordWithEntry[];
  /** Whether the image exists with no tag or digest (a tagged one is never removed by a cache prune). */
  untagged(imageId: string): boolean;
  /** rmi without force, parents pruned; throws on conflicts. */
  remove(imageId: string): ImageDeleteItem[];
  layerSize(chainId: string): number;
}

export function pruneBuildCache(p: PrunableCache, opts: BuilderPruneOptions, now = Date.now()): BuildCachePruneReport {
  const sel = parseBuilderPruneFilters(opts.filters, now);
  const all = p.records();
  const lastUsed = (r: CacheRecordWithEntry) => Date.parse(r.entry.lastUsedAt ?? r.entry.createdAt);
  let chosen = all.filter(
    (r) => !r.record.InUse && (opts.all || !r.record.Shared) && (sel.olderThan === undefined || lastUsed(r) < sel.olderThan) && sel.match(r),
  );
  if (opts.keepStorage > 0) {
    // least recently used first, until what stays fits
    let total = all.reduce((n, r) => n + (r.record.Shared ? 0 : r.record.Size), 0);
    const order = [...chosen].sort((a, b) => lastUsed(a) - lastUsed(b));
    const keep = new Set<CacheRecordWithEntry>();
    for (const r of order) {
      if (total <= opts.keepStorage) keep.add(r);
      else if (!r.record.Shared) total -= r.record.Size;
    }
    chosen = chosen.filter((r) => !keep.has(r));
  }
  const report: BuildCachePruneReport = { CachesDeleted: null, SpaceReclaimed: 0 };
  const sizes = new Map<string, number>();
  for (const r of all) if (r.ownChain !== undefined) sizes.set(r.ownChain, p.layerSize(r.ownChain));
  p.cache.delete(chosen.map((r) => r.entry.id));
  // children before parents: a step image with children cannot go until they have
  const byAge = [...chosen].sort((a, b) => Date.parse(b.entry.createdAt) - Date.parse(a.entry.createdAt));
  const deleted = new Set<string>();
  for (const r of byAge) {
    (report.CachesDeleted ??= []).push(r.record.ID);
    if (!p.untagged(r.entry.id)) continue;
    let items: ImageDeleteItem[];
    try {
      items = p.remove(r.entry.id);
    } catch {
      // tagged, used or with children: the image stays, only the cache forgets it
      continue;
    }
    for (const d of items) if ('Deleted' in d) deleted.add(d.Deleted);
  }
  for (const id of deleted) report.SpaceReclaimed += sizes.get(id) ?? 0;
  return report;
}
