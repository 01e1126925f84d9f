// GET /images/{name}/history as moby's ImageService.ImageHistory: one entry per history line,
// newest first; a line that made a layer carries that layer's unpacked size (empty_layer lines
// 0); then the IDs and tags are filled in walking the local parent chain (a built or committed
// image's step images), the rest staying "<missing>".
import { familiar } from '../images/reference.js';
import type { ImageRecord } from '../images/types.js';
import { SystemError } from '../errors.js';

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface HistorySource {
  /** Layer chain IDs of the image, base first. */
  chainIdsOf(imageId: string): string[];
  layerSize(chainId: string): number;
  /** The image, or undefined when it is gone. */
  lookup(imageId: string): ImageRecord | undefined;
}

export function imageHistory(img: ImageRecord, src: HistorySource): HistoryItem[] {
  const chains = src.chainIdsOf(img.id);
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of img.config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      if (layer >= img.config.rootfs.diff_ids.length) throw new SystemError('too many non-empty layers in History section');
      size = chains[layer] !== undefined ? src.layerSize(chains[layer]) : 0;
      layer++;
    }
    const t = h.created ? Date.parse(h.created) : NaN;
    items.unshift({ Id: '<missing>', Created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  let cur: ImageRecord | undefined = img;
  for (const item of items) {
    if (cur === undefined) break;
    item.Id = cur.id;
    item.Tags = cur.repoTags.length > 0 ? cur.repoTags.map(familiar) : null;
    cur = cur.parent ? src.lookup(cur.parent) : undefined;
  }
  return items;
}
