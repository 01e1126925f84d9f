// GET /system/df (moby 28's getDiskUsage + daemon.SystemDiskUsage): LayersSize (every unpacked
// layer once), Images as `docker images` lists them with SharedSize and Containers counted,
// Containers with SizeRw and SizeRootFs, local Volumes with UsageData, and the classic builder's
// cache as build-cache records. `type` (API 1.42+) picks the parts; the others are null.
import { Filters } from '../../api/filters.js';
import { InvalidParameterError } from '../../errors.js';
import type { BuildCacheStoreApi } from '../../images/build/types.js';
import type { ImageService } from '../../images/image-service.js';
import { containerSizes } from '../containers/size.js';
import type { ContainerService } from '../containers/service.js';
import { listView } from '../containers/view.js';
import type { ExecService } from '../exec/service.js';
import { listImages } from '../image-list.js';
import { imageSummaryView, type ImageListCompat } from '../image-view.js';
import type { VolumeService } from '../volumes/service.js';
import { buildCacheRecords, type CacheRecordWithEntry } from './build-cache-records.js';

export const DISK_USAGE_TYPES = ['container', 'image', 'volume', 'build-cache'] as const;
export type DiskUsageType = (typeof DISK_USAGE_TYPES)[number];

export interface DiskUsageDeps {
  images: ImageService;
  containers: ContainerService;
  volumes: VolumeService;
  execs: ExecService;
  buildCache?: BuildCacheStoreApi;
}

export interface DiskUsageOptions {
  /** The parts asked for; undefined means all (API < 1.42, or no `type`). */
  types?: string[];
  compat: ImageListCompat;
  /** API < 1.42 also gets BuilderSize, the build cache's total. */
  builderSize: boolean;
}

/** The build cache's records (shared with builder prune). */
export function cacheRecords(d: Pick<DiskUsageDeps, 'images' | 'containers' | 'buildCache'>): CacheRecordWithEntry[] {
  if (d.buildCache === undefined) return [];
  const byId = new Map(d.images.list().map((i) => [i.id, i]));
  const used = new Set(d.containers.list().map((c) => c.imageId));
  return buildCacheRecords(d.buildCache.entries(), {
    chainsOf: (id) => (byId.has(id) ? d.images.chainIdsOf(id) : undefined),
    layerSize: (c) => d.images.layerSize(c),
    imageIds: () => [...byId.keys()],
    inUse: (id) => used.has(id),
    referenced: (id) => (byId.get(id)?.repoTags.length ?? 0) + (byId.get(id)?.repoDigests.length ?? 0) > 0,
    parentOf: (id) => byId.get(id)?.parent,
  });
}

export async function diskUsage(d: DiskUsageDeps, o: DiskUsageOptions): Promise<Record<string, unknown>> {
  const types = o.types;
  for (const t of types ?? []) if (!(DISK_USAGE_TYPES as readonly string[]).includes(t)) throw new InvalidParameterError(`unknown object type: ${t}`);
  const want = (t: DiskUsageType) => types === undefined || types.includes(t);
  const out: Record<string, unknown> = {};
  if (want('image')) {
    const usedBy = new Map<string, number>();
    for (const c of d.containers.list()) usedBy.set(c.imageId, (usedBy.get(c.imageId) ?? 0) + 1);
    const all = d.images.list();
    const entries = listImages(all, {
      filters: new Filters(),
      sharedSize: true,
      resolve: (ref) => d.images.get(ref),
      hasChildren: (id) => d.images.childrenOf(id).length > 0,
      chainIdsOf: (id) => d.images.chainIdsOf(id),
      layerSize: (c) => d.images.layerSize(c),
    });
    out.LayersSize = d.images.layersSize();
    out.Images = entries.map((e) => ({ ...imageSummaryView(e, o.compat), Containers: usedBy.get(e.image.id) ?? 0 }));
  } else out.Images = null;
  out.Containers = want('container')
    ? await Promise.all(
        d.containers.list().map(async (c) => ({
          ...listView(c, { imageName: c.imageRef }),
          ...(await containerSizes(d.containers, c)),
        })),
      )
    : null;
  out.Volumes = want('volume') ? await d.volumes.usage() : null;
  if (want('build-cache')) {
    const records = cacheRecords(d).map((r) => r.record);
    out.BuildCache = records;
    if (o.builderSize) out.BuilderSize = records.reduce((n, r) => n + (r.Shared ? 0 : r.Size), 0);
  } else out.BuildCache = null;
  return out;
}
