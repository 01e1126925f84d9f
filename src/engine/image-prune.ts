// POST /images/prune (moby daemon/images/image_prune.go ImagesPrune): remove untagged images, or
// with dangling=false every image, that match the label/label!/until filters. Each removal is an
// rmi without force, so an image a container (running or stopped) uses stays, as in moby where
// ImageDelete answers a conflict and prune skips it.
import type { Filters } from '../api/filters.js';
import { InvalidParameterError } from '../errors.js';
import type { ImageDeleteItem, ImageRecord } from '../images/types.js';
import { parseUntil } from './containers/prune.js';
import { faultPoint } from '../util/fault-point.js';

export interface ImagePruneReport {
  ImagesDeleted: ImageDeleteItem[] | null;
  SpaceReclaimed: number;
}

type InUse = (imageId: string) => { running: boolean; containerId: string } | null;

export interface PrunableImages {
  list(): ImageRecord[];
  remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean; inUse: InUse }): ImageDeleteItem[];
  /** chainID -> unpacked size of the image's layers. */
  layerSizes(imageId: string): Map<string, number>;
}

export interface ImagePruneFilters {
  danglingOnly: boolean;
  until?: Date;
  /** label and label! (Filters.matchLabels). */
  filters: Filters;
}

/** moby's filters for image prune: dangling (bool, default true), label, label!, until (one). */
export function parseImagePruneFilters(filters: Filters, now = Date.now()): ImagePruneFilters {
  filters.validate(['dangling', 'label', 'label!', 'until']);
  const danglingOnly = filters.boolOrDefault('dangling', true);
  const untils = filters.get('until');
  if (untils.length > 1) throw new InvalidParameterError('more than one until filter specified');
  const until = untils[0] !== undefined ? parseUntil(untils[0], now) : undefined;
  return { danglingOnly, until, filters };
}

/** Whether prune considers the image at all (before any in-use check). */
export function imagePruneCandidate(img: ImageRecord, f: ImagePruneFilters): boolean {
  if (f.danglingOnly && img.repoTags.length > 0) return false;
  if (f.until) {
    const created = Date.parse(img.config.created ?? '');
    if (!Number.isFinite(created) || created > f.until.getTime()) return false;
  }
  // moby's matchLabels: label! excludes only when every label! expression matches (MatchKVList)
  return f.filters.matchLabels(img.config.config?.Labels ?? undefined);
}

export function pruneImages(images: PrunableImages, filters: Filters, inUse: InUse): ImagePruneReport {
  const f = parseImagePruneFilters(filters);
  const report: ImagePruneReport = { ImagesDeleted: null, SpaceReclaimed: 0 };
  // Sizes first: a removed image's layer rows go with it.
  const sizes = new Map<string, number>();
  const candidates = images
    .list()
    .filter((img) => imagePruneCandidate(img, f))
    .sort((a, b) => Date.parse(a.storedAt) - Date.parse(b.storedAt));
  for (const img of candidates) for (const [chain, size] of images.layerSizes(img.id)) sizes.set(chain, size);
  for (const img of candidates) {
    // By reference when it has any (a digest-only image untags, then goes), else by ID.
    const names = [...img.repoTags, ...img.repoDigests];
    const targets = names.length > 0 ? names : [img.id];
    for (const target of targets) {
      let deleted: ImageDeleteItem[];
      try {
        deleted = images.remove(target, { force: false, noprune: false, inUse });
      } catch {
        // moby's imageDeleteFailed: conflicts (in use) and not-found are skipped silently.
        continue;
      }
      (report.ImagesDeleted ??= []).push(...deleted);
      faultPoint('prune.after-image');
    }
  }
  for (const d of report.ImagesDeleted ?? []) {
    if ('Deleted' in d) report.SpaceReclaimed += sizes.get(d.Deleted) ?? 0;
  }
  return report;
}
