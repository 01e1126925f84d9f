// docker save: one or several images as the tarball Docker 25+ writes, which is at once an
// OCI image layout (oci-layout, index.json, blobs/sha256/) and a docker-archive (manifest.json
// and repositories naming the same blobs). Blobs shared by several images are written once.
// The tar is streamed blob by blob; destroying it (the client left) stops the reading.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { Storage } from '../store/storage.js';
import { MEDIA_TYPES } from '../distribution/registry-client.js';
import { sha256Digest, digestHex } from '../store/content-store.js';
import { familiarName, parseNormalizedNamed } from '../reference.js';
import type { ImageRecord } from '../types.js';
import { layerBlobs, type DiffIdMemo, type LayerBlob } from '../store/layer-blobs.js';

/** One image to save with the tags (normalised references) it is saved under. */
export interface SaveTarget {
  image: ImageRecord;
  tags: string[];
}

/** Merge targets naming the same image, keeping the order names were given. */
export function mergeTargets(targets: SaveTarget[]): SaveTarget[] {
  const byId = new Map<string, SaveTarget>();
  for (const t of targets) {
    const have = byId.get(t.image.id);
    if (have) for (const tag of t.tags) { if (!have.tags.includes(tag)) have.tags.push(tag); }
    else byId.set(t.image.id, { image: t.image, tags: [...t.tags] });
  }
  return [...byId.values()];
}

interface Planned {
  target: SaveTarget;
  layers: LayerBlob[];
  configSize: number;
  manifest: Buffer;
  manifestDigest: string;
}

const blobPath = (digest: string) => `blobs/sha256/${digestHex(digest)}`;

async function plan(storage: Storage, t: SaveTarget, memo?: DiffIdMemo): Promise<Planned> {
  const layers = await layerBlobs(storage, t.image.id, t.image.config, { memo });
  const configSize = await storage.content.size(t.image.id);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: t.image.id, size: configSize, platform: platformOf(t.image) },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { target: t, layers, configSize, manifest, manifestDigest: sha256Digest(manifest) };
}

function platformOf(img: ImageRecord): { architecture: string; os: string; variant?: string } {
  const c = img.config;
  return { architecture: c.architecture, os: c.os, ...(c.variant ? { variant: c.variant } : {}) };
}

function tagOf(ref: string): string {
  return parseNormalizedNamed(ref).tag ?? 'latest';
}

/**
 * Resolve every image's blobs first (so a broken image fails before a byte is sent), then
 * stream. The blobs are held against garbage collection until the stream ends.
 */
export async function saveArchive(storage: Storage, targets: SaveTarget[], memo?: DiffIdMemo): Promise<Readable> {
  const planned: Planned[] = [];
  for (const t of mergeTargets(targets)) planned.push(await plan(storage, t, memo));
  const held = [...new Set(planned.flatMap((p) => [p.target.image.id, ...p.layers.map((l) => l.digest)]))];
  for (const k of held) storage.hold(k);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const k of held) storage.release(k);
    // an rmi while the save ran left these blobs to us: free what nothing else uses now
    void storage.collect().catch((err) => storage.logger.error({ err }, 'removing blobs after a save failed'));
  };

  const pack = tar.pack();
  const mtime = new Date(0);
  const addBuffer = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime }, data, (err) => (err ? reject(err) : resolve())));
  const addDir = (name: string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, type: 'directory', mode: 0o755, mtime }, (err) => (err ? reject(err) : resolve())));
  const addBlob = async (digest: string, size: number) => {
    const entry = pack.entry({ name: blobPath(digest), size, mode: 0o644, mtime });
    await pipeline(storage.content.read(digest), entry);
  };

  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: planned.flatMap((p) => {
      const desc = { mediaType: MEDIA_TYPES.ociManifest, digest: p.manifestDigest, size: p.manifest.length, platform: platformOf(p.target.image) };
      if (p.target.tags.length === 0) return [desc];
      return p.target.tags.map((t) => ({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': tagOf(t) } }));
    }),
  };
  const manifestJson = planned.map((p) => ({
    Config: blobPath(p.target.image.id),
    RepoTags: p.target.tags.map((t) => `${familiarName(parseNormalizedNamed(t))}:${tagOf(t)}`),
    Layers: p.layers.map((l) => blobPath(l.digest)),
  }));
  const repositories: Record<string, Record<string, string>> = {};
  for (const p of planned) {
    // moby names the top layer by its diffID (its blob name there, as moby's layers are plain tars)
    const top = p.target.image.config.rootfs.diff_ids.at(-1);
    if (!top) continue;
    for (const t of p.target.tags) {
      const name = familiarName(parseNormalizedNamed(t));
      (repositories[name] ??= {})[tagOf(t)] = digestHex(top);
    }
  }

  void (async () => {
    await addDir('blobs/');
    await addDir('blobs/sha256/');
    const written = new Set<string>();
    for (const p of planned) {
      for (const l of p.layers) {
        if (written.has(l.digest)) continue;
        written.add(l.digest);
        await addBlob(l.digest, l.size);
      }
      if (!written.has(p.target.image.id)) {
        written.add(p.target.image.id);
        await addBlob(p.target.image.id, p.configSize);
      }
      if (!written.has(p.manifestDigest)) {
        written.add(p.manifestDigest);
        await addBuffer(blobPath(p.manifestDigest), p.manifest);
      }
    }
    await addBuffer('index.json', Buffer.from(JSON.stringify(index)));
    await addBuffer('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    if (Object.keys(repositories).length > 0) await addBuffer('repositories', Buffer.from(JSON.stringify(repositories)));
    await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));

  const out = pack as unknown as Readable;
  out.once('close', release);
  out.once('end', release);
  out.once('error', release);
  return out;
}
