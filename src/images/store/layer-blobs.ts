// Which stored blob holds each layer of an image, and in what form. berth keeps the blobs an
// image arrived with (gzip from a registry, plain tar from commit or a docker save), not a
// per-layer index: a plain tar is the blob named by its diffID; a compressed one is found
// through a manifest the image keeps (its own, or its parent's after a commit); an import's
// single layer is whatever blob is left, recognised by its magic bytes; a docker-archive of
// gzip layers leaves nothing to pair them by, so their diffIDs are worked out by decompressing
// each such blob once, and remembered (moby's diffid-by-digest). Save and push both ask here.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../errors.js';
import type { Storage } from './storage.js';
import { MEDIA_TYPES } from '../distribution/registry-client.js';
import type { ImageConfigFile } from '../types.js';

export interface LayerBlob {
  digest: string;
  size: number;
  mediaType: string;
}

/** Compressed blobs' diffIDs worked out before (distribution/blob-sources.ts keeps them). */
export interface DiffIdMemo {
  diffIdOf(digest: string): string | undefined;
  setDiffId(digest: string, diffId: string): void;
}

export interface LayerBlobsOptions {
  memo?: DiffIdMemo;
  signal?: AbortSignal;
  /** What the caller does, for the error: 'export' (save) or 'push'. */
  verb?: string;
}

const MANIFEST_MAX = 4 << 20;

/** The OCI media type for a stored layer blob's media type (docker's gzip one included). */
function ociLayerType(mediaType: string | undefined): string {
  if (mediaType?.endsWith('zstd')) return MEDIA_TYPES.ociLayerZstd;
  if (mediaType?.endsWith('gzip')) return MEDIA_TYPES.ociLayerGzip;
  return MEDIA_TYPES.ociLayer;
}

async function sniff(storage: Storage, digest: string): Promise<string> {
  const fh = await open(storage.content.blobPath(digest), 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    const b = buffer.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return MEDIA_TYPES.ociLayerGzip;
    if (b.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return MEDIA_TYPES.ociLayerZstd;
    return MEDIA_TYPES.ociLayer;
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

export async function layerBlobs(storage: Storage, imageId: string, config: ImageConfigFile, opts: LayerBlobsOptions = {}): Promise<LayerBlob[]> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  const blobs = new Set(storage.store.blobsOf(imageId));
  const found = new Map<number, { digest: string; mediaType: string }>();
  const used = new Set<string>([imageId]);
  diffIds.forEach((d, i) => {
    if (blobs.has(d)) {
      found.set(i, { digest: d, mediaType: MEDIA_TYPES.ociLayer });
      used.add(d);
    }
  });
  // compressed layers: pair each kept manifest's layers with its config's diff_ids
  const byDiffId = new Map<string, { digest: string; mediaType: string }>();
  for (const b of blobs) {
    if (found.size === diffIds.length) break;
    if (used.has(b) || (await storage.content.size(b)) > MANIFEST_MAX) continue;
    let m: { config?: { digest?: string }; layers?: { digest?: string; mediaType?: string }[] };
    try {
      m = JSON.parse((await storage.content.readBuffer(b)).toString('utf8'));
    } catch {
      continue;
    }
    if (!Array.isArray(m?.layers) || typeof m.config?.digest !== 'string' || !(await storage.content.has(m.config.digest))) continue;
    let cfg: ImageConfigFile;
    try {
      cfg = JSON.parse((await storage.content.readBuffer(m.config.digest)).toString('utf8'));
    } catch {
      continue;
    }
    const ids = cfg?.rootfs?.diff_ids ?? [];
    if (ids.length !== m.layers.length) continue;
    used.add(b);
    used.add(m.config.digest);
    m.layers.forEach((l, i) => {
      if (typeof l?.digest === 'string' && blobs.has(l.digest)) byDiffId.set(ids[i], { digest: l.digest, mediaType: ociLayerType(l.mediaType) });
    });
  }
  diffIds.forEach((d, i) => {
    const hit = byDiffId.get(d);
    if (!found.has(i) && hit) {
      found.set(i, hit);
      used.add(hit.digest);
    }
  });
  const missing = diffIds.map((_, i) => i).filter((i) => !found.has(i));
  const left = [...blobs].filter((b) => !used.has(b));
  if (missing.length === 1 && left.length === 1) found.set(missing[0], { digest: left[0], mediaType: await sniff(storage, left[0]) });
  else if (missing.length > 0) {
    const want = new Map(missing.map((i) => [diffIds[i], i]));
    for (const b of left) {
      if (want.size === 0) break;
      const mediaType = await sniff(storage, b).catch(() => undefined);
      if (mediaType === undefined) continue;
      let diffId = opts.memo?.diffIdOf(b);
      if (diffId === undefined && mediaType === MEDIA_TYPES.ociLayerGzip) {
        diffId = await gunzipDigest(storage, b, opts.signal).catch((err: Error) => {
          if (opts.signal?.aborted) throw err;
          return undefined; // not a gzip after all: not a layer
        });
        if (diffId !== undefined) opts.memo?.setDiffId(b, diffId);
      }
      const i = diffId === undefined ? undefined : want.get(diffId);
      if (i === undefined) continue;
      found.set(i, { digest: b, mediaType });
      want.delete(diffId!);
    }
    const gone = missing.find((i) => !found.has(i));
    if (gone !== undefined) throw new SystemError(`cannot ${opts.verb ?? 'export'} image ${imageId}: the blob of layer ${diffIds[gone]} is not in the content store`);
  }
  const out: LayerBlob[] = [];
  for (let i = 0; i < diffIds.length; i++) {
    const f = found.get(i)!;
    out.push({ ...f, size: await storage.content.size(f.digest) });
  }
  return out;
}
