// GET /images/json's selection as moby 28's graphdriver ImageService.Images: one summary per image
// carrying all its (matching) tags and digests, the filters dangling/label/before/since/until/reference,
// newest first. Pure: the caller hands in the images and how to resolve names and layer sizes.
import type { Filters } from '../api/filters.js';
import { Glob } from '../util/glob-match.js';
import { InvalidParameterError } from '../errors.js';
import { familiar, familiarName, familiarString, parseNormalizedNamed } from '../images/reference.js';
import type { ImageRecord } from '../images/types.js';
import { parseUntil } from './containers/prune.js';

const ACCEPTED = ['dangling', 'label', 'before', 'since', 'reference', 'until'];

export interface ImageListOptions {
  filters: Filters;
  /** Intermediate images too (untagged images that other images were built from). */
  all?: boolean;
  /** Whether images name `imageId` as their parent (moby's imageStore.Children). */
  hasChildren?: (imageId: string) => boolean;
  sharedSize?: boolean;
  /** The image a before/since value names (404 when none). */
  resolve: (nameOrId: string) => ImageRecord;
  /** Layer chain IDs of an image, base first, and the unpacked size of one layer (shared-size). */
  chainIdsOf?: (imageId: string) => string[];
  layerSize?: (chainId: string) => number;
}

/** One image as the list sees it: tags/digests already filtered, familiar form. */
export interface ImageListEntry {
  image: ImageRecord;
  repoTags: string[];
  repoDigests: string[];
  /** -1 unless shared-size was asked. */
  sharedSize: number;
}

/** moby's invalidFilter text: `invalid filter 'key=[v1 v2]'` (Go's %s of a []string). */
function invalidFilter(key: string, values: string[]): InvalidParameterError {
  return new InvalidParameterError(`invalid filter '${key}=[${values.join(' ')}]'`);
}

/** The image's own creation time in ms, or undefined when its config has none (moby's nil Created). */
export function createdMs(img: ImageRecord): number | undefined {
  if (img.config.created === undefined) return undefined;
  const t = Date.parse(img.config.created);
  return Number.isNaN(t) ? undefined : t;
}

/** distribution's FamiliarMatch: the pattern against the familiar string, then the familiar name. */
function familiarMatch(globs: Glob[], normalised: string): boolean {
  let full = normalised;
  let name: string | undefined;
  try {
    const ref = parseNormalizedNamed(normalised);
    full = familiarString(ref);
    name = familiarName(ref);
  } catch {
    // a stored reference always parses; match it as it is otherwise
  }
  return globs.some((g) => g.matches(full) || (name !== undefined && g.matches(name)));
}

export function listImages(images: ImageRecord[], o: ImageListOptions): ImageListEntry[] {
  const f = o.filters;
  f.validate(ACCEPTED);
  const danglingOnly = f.boolOrDefault('dangling', false);
  const hasChildren = o.hasChildren ?? (() => false);

  // Several before/until values resolve to the oldest bound, several since values to the newest.
  let before: number | undefined;
  let since: number | undefined;
  for (const v of f.get('before')) {
    const t = createdMs(o.resolve(v));
    if (t !== undefined && (before === undefined || t < before)) before = t;
  }
  for (const v of f.get('until')) {
    const t = parseUntil(v).getTime();
    if (before === undefined || t < before) before = t;
  }
  for (const v of f.get('since')) {
    const t = createdMs(o.resolve(v));
    if (t !== undefined && (since === undefined || t > since)) since = t;
  }
  const refGlobs = f.has('reference') ? f.get('reference').map((p) => Glob.compile(p)) : undefined;

  const out: ImageListEntry[] = [];
  for (const image of images) {
    // dangling=true lists only heads (moby's imageStore.Heads): images nothing was built from
    if (danglingOnly && hasChildren(image.id)) continue;
    const created = createdMs(image);
    if (before !== undefined && (created === undefined || created >= before)) continue;
    if (since !== undefined && (created === undefined || created <= since)) continue;
    if (f.has('label') && !f.matchKVList('label', image.config.config?.Labels ?? undefined)) continue;
    const keep = (r: string) => refGlobs === undefined || familiarMatch(refGlobs, r);
    const repoTags = image.repoTags.filter(keep);
    const repoDigests = image.repoDigests.filter(keep);
    if (repoTags.length === 0 && repoDigests.length === 0) {
      // untagged: an intermediate image (one with children) shows only with all; gone under
      // dangling=false and under a reference filter
      if (!o.all && hasChildren(image.id)) continue;
      if (f.has('dangling') && !danglingOnly) continue;
      if (refGlobs !== undefined) continue;
    } else if (danglingOnly && repoTags.length > 0) {
      continue;
    }
    out.push({ image, repoTags: repoTags.map(familiar), repoDigests: repoDigests.map(familiar), sharedSize: -1 });
  }

  if (o.sharedSize && o.chainIdsOf && o.layerSize) {
    // a layer counts as shared when more than one image (listed or not) stands on it
    const chainsOf = new Map(images.map((img) => [img.id, o.chainIdsOf!(img.id)]));
    const users = new Map<string, number>();
    for (const chains of chainsOf.values()) for (const c of chains) users.set(c, (users.get(c) ?? 0) + 1);
    for (const e of out) {
      e.sharedSize = 0;
      for (const c of chainsOf.get(e.image.id) ?? []) if ((users.get(c) ?? 0) > 1) e.sharedSize += o.layerSize(c);
    }
  }

  const sec = (e: ImageListEntry) => Math.floor((createdMs(e.image) ?? 0) / 1000);
  return out.sort((a, b) => sec(b) - sec(a) || Date.parse(b.image.storedAt) - Date.parse(a.image.storedAt));
}
