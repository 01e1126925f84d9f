// The classic builder's cache (its step images, BuildCacheStoreApi rows) as Docker 28's API shows
// build cache (api/types/build.CacheRecord): one record per step image that still exists. A step's
// Size is the layer it added (0 for a metadata step). Shared means a kept image needs the entry:
// a tagged image, one a container uses, or one the builder did not make descends from it or
// stands on its layer, so removing the entry frees nothing; an entry that is not shared is
// dangling. InUse means a container (a running build step's, or any) uses the step image.
import type { BuildCacheEntry } from '../../images/build/types.js';
import { digestHex } from '../../images/store/content-store.js';

export interface BuildCacheRecord {
  ID: string;
  Parents?: string[];
  Type: 'regular';
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

/** What the records are computed from: the images' chains and the containers' images. */
export interface CacheFacts {
  /** Layer chain IDs of an existing image, base first; undefined when the image is gone. */
  chainsOf(imageId: string): string[] | undefined;
  layerSize(chainId: string): number;
  /** Every existing image ID. */
  imageIds(): string[];
  /** Whether a container uses the image. */
  inUse(imageId: string): boolean;
  /** Whether the image has a tag or digest reference. */
  referenced(imageId: string): boolean;
  /** The image a build step or commit made it from. */
  parentOf(imageId: string): string | undefined;
}

export interface CacheRecordWithEntry {
  entry: BuildCacheEntry;
  record: BuildCacheRecord;
  /** The chain of the layer the step added, when it added one. */
  ownChain?: string;
}

export function buildCacheRecords(entries: BuildCacheEntry[], facts: CacheFacts): CacheRecordWithEntry[] {
  const cacheIds = new Set(entries.map((e) => e.id));
  // what kept images need: their ancestors, and the layers they stand on
  const needed = new Set<string>();
  const keptChains = new Set<string>();
  for (const id of facts.imageIds()) {
    if (cacheIds.has(id) && !facts.referenced(id) && !facts.inUse(id)) continue;
    for (const c of facts.chainsOf(id) ?? []) keptChains.add(c);
    for (let p: string | undefined = id; p !== undefined && !needed.has(p); p = facts.parentOf(p)) needed.add(p);
  }
  const out: CacheRecordWithEntry[] = [];
  for (const entry of entries) {
    const chains = facts.chainsOf(entry.id);
    if (chains === undefined) continue;
    const parentChains = entry.parent ? (facts.chainsOf(entry.parent) ?? []) : [];
    const ownChain = chains.length > parentChains.length ? chains.at(-1) : undefined;
    out.push({
      entry,
      ownChain,
      record: {
        ID: digestHex(entry.id),
        ...(entry.parent ? { Parents: [digestHex(entry.parent)] } : {}),
        Type: 'regular',
        Description: entry.description,
        InUse: facts.inUse(entry.id),
        Shared: needed.has(entry.id) || (ownChain !== undefined && keptChains.has(ownChain)),
        Size: ownChain !== undefined ? facts.layerSize(ownChain) : 0,
        CreatedAt: entry.createdAt,
        LastUsedAt: entry.lastUsedAt,
        UsageCount: entry.usageCount,
      },
    });
  }
  return out;
}
