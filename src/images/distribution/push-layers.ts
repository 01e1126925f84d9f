// Which local blob a push sends for each layer of an image. Mostly archive/layer-blobs.ts
// answers (plain tars named by their diffID, compressed blobs paired through a kept manifest);
// a docker-archive of gzip layers leaves nothing to pair them by, so their diffIDs are worked
// out by decompressing each such blob once, and remembered (blob-sources.ts).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../errors.js';
import { layerBlobs, type LayerBlob } from '../archive/layer-blobs.js';
import type { Storage } from '../store/storage.js';
import type { ImageConfigFile } from '../types.js';
import { MEDIA_TYPES } from './registry-client.js';
import type { BlobSources } from './blob-sources.js';

async function isGzip(storage: Storage, digest: string): Promise<boolean> {
  const fh = await open(storage.content.blobPath(digest), 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function gunzipDigest(storage: Storage, digest: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    storage.content.read(digest),
    createGunzip(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb();
      },
    }),
    { signal },
  );
  return `sha256:${hash.digest('hex')}`;
}

export async function pushLayerBlobs(storage: Storage, sources: BlobSources, imageId: string, config: ImageConfigFile, signal?: AbortSignal): Promise<LayerBlob[]> {
  try {
    return await layerBlobs(storage, imageId, config);
  } catch (err) {
    if (!(err instanceof SystemError)) throw err;
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  const wanted = new Set(diffIds);
  const found = new Map<string, LayerBlob>();
  for (const b of storage.store.blobsOf(imageId)) {
    if (b === imageId) continue;
    const size = await storage.content.size(b).catch(() => undefined);
    if (size === undefined) continue;
    if (wanted.has(b)) {
      found.set(b, { digest: b, size, mediaType: MEDIA_TYPES.ociLayer });
      continue;
    }
    let diffId = sources.diffIdOf(b);
    if (diffId === undefined && (await isGzip(storage, b))) {
      diffId = await gunzipDigest(storage, b, signal);
      sources.setDiffId(b, diffId);
    }
    if (diffId !== undefined && wanted.has(diffId) && !found.has(diffId)) found.set(diffId, { digest: b, size, mediaType: MEDIA_TYPES.ociLayerGzip });
  }
  const missing = diffIds.find((d) => !found.has(d));
  if (missing !== undefined) throw new SystemError(`cannot push image ${imageId}: the blob of layer ${missing} is not in the content store`);
  return diffIds.map((d) => found.get(d)!);
}
