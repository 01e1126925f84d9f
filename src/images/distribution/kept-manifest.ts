// The manifest an image arrived with, if berth still has it and every blob it names: a push
// sends those blobs and that manifest byte for byte, so an image pulled (or loaded from an OCI
// layout) and pushed unchanged keeps its digest. An image loaded from a docker-archive first
// and pulled later has both; the pulled manifest wins over gzipping the plain tars again.
import type { Storage } from '../store/storage.js';
import { MEDIA_TYPES, type Descriptor } from './registry-client.js';

export interface KeptManifest {
  body: Buffer;
  digest: string;
  layers: Descriptor[];
}

const MANIFEST_MAX = 4 << 20;

async function parseKept(storage: Storage, digest: string, imageId: string, layerCount: number): Promise<KeptManifest | undefined> {
  if (!(await storage.content.has(digest)) || (await storage.content.size(digest)) > MANIFEST_MAX) return undefined;
  const body = await storage.content.readBuffer(digest);
  let m: { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: unknown };
  try {
    m = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!m || typeof m !== 'object' || m.manifests !== undefined || m.config?.digest !== imageId || !Array.isArray(m.layers)) return undefined;
  const mediaType = m.mediaType ?? MEDIA_TYPES.ociManifest;
  if (mediaType !== MEDIA_TYPES.dockerManifest && mediaType !== MEDIA_TYPES.ociManifest) return undefined;
  if (m.layers.length !== layerCount) return undefined;
  for (const l of m.layers) {
    if (typeof l?.digest !== 'string' || !Number.isSafeInteger(l.size) || l.urls?.length) return undefined;
    if (!(await storage.content.has(l.digest))) return undefined;
  }
  return { body, digest, layers: m.layers };
}

/**
 * Which of the image's manifests: the one its RepoDigest in the target repository names (a
 * repeated push keeps its digest), then the newest RepoDigest's (the last pull), then the one
 * it was stored with, then any other it keeps.
 */
export async function keptManifest(storage: Storage, imageId: string, layerCount: number, targetRepo: string, repoDigests: string[]): Promise<KeptManifest | undefined> {
  const named = repoDigests.map((r) => ({ repo: r.slice(0, r.lastIndexOf('@')), digest: r.slice(r.lastIndexOf('@') + 1) })).reverse();
  const own = storage.store.manifestDigest(imageId);
  const order = [
    ...named.filter((n) => n.repo === targetRepo).map((n) => n.digest),
    ...named.map((n) => n.digest),
    ...(own !== null ? [own] : []),
    ...storage.store.blobsOf(imageId),
  ];
  const candidates = [...new Set(order)].filter((d) => d !== imageId);
  for (const digest of candidates) {
    try {
      const kept = await parseKept(storage, digest, imageId, layerCount);
      if (kept) return kept;
    } catch {
      // a blob that went away meanwhile, or is not a manifest: not this one
    }
  }
  return undefined;
}
