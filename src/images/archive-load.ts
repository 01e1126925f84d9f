// docker load: a docker-archive (manifest.json + config + layer tars, as `docker save`
// writes) or an OCI image layout (index.json + blobs/). The tarball is streamed entry by
// entry into the content store, so nothing is held in memory; the index files are read back
// from there once the whole archive has arrived.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../errors.js';
import { decompressed } from './compression.js';
import { confinePath } from './unpack.js';
import { normalize, referenceString } from './reference.js';
import { MEDIA_TYPES, defaultPlatform, type Descriptor } from './registry-client.js';
import type { Ingest, Storage } from './storage.js';
import type { ImageConfigFile } from './types.js';

interface ArchiveImage {
  configDigest: string;
  layerDigests: string[];
  manifestDigest: string | null;
  refs: string[];
}

export interface LoadedImage {
  id: string;
  /** Normalised tag references now pointing at it. */
  tags: string[];
  /** Images these tags pointed at before (possibly dangling now). */
  replaced: string[];
}

async function readJson<T>(storage: Storage, digest: string): Promise<T> {
  return JSON.parse((await storage.content.readBuffer(digest)).toString('utf8')) as T;
}

function need(files: Map<string, string>, name: string): string {
  const d = files.get(confinePath(name));
  if (d === undefined) throw new InvalidParameterError(`invalid archive: ${name} referenced but not present`);
  return d;
}

async function dockerArchiveImages(storage: Storage, files: Map<string, string>): Promise<ArchiveImage[]> {
  const manifest = await readJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(storage, files.get('manifest.json')!);
  return manifest.map((m) => ({
    configDigest: need(files, m.Config),
    layerDigests: m.Layers.map((l) => need(files, l)),
    manifestDigest: null,
    refs: m.RepoTags ?? [],
  }));
}

async function ociLayoutImages(storage: Storage, files: Map<string, string>): Promise<ArchiveImage[]> {
  const blob = (d: string) => need(files, `blobs/${d.replace(':', '/')}`);
  const out: ArchiveImage[] = [];
  const platform = defaultPlatform();
  const visit = async (desc: Descriptor & { annotations?: Record<string, string> }, name: string | undefined): Promise<void> => {
    const digest = blob(desc.digest);
    if (desc.mediaType === MEDIA_TYPES.ociIndex || desc.mediaType === MEDIA_TYPES.dockerList) {
      const idx = await readJson<{ manifests: Descriptor[] }>(storage, digest);
      const pick = idx.manifests.find((m) => !m.platform || (m.platform.os === platform.os && m.platform.architecture === platform.architecture)) ?? idx.manifests[0];
      if (pick) await visit(pick, name);
      return;
    }
    const m = await readJson<{ config: Descriptor; layers: Descriptor[] }>(storage, digest);
    out.push({ configDigest: blob(m.config.digest), layerDigests: m.layers.map((l) => blob(l.digest)), manifestDigest: digest, refs: name ? [name] : [] });
  };
  const index = await readJson<{ manifests: (Descriptor & { annotations?: Record<string, string> })[] }>(storage, files.get('index.json')!);
  for (const d of index.manifests) await visit(d, d.annotations?.['io.containerd.image.name']);
  return out;
}

async function registerImage(storage: Storage, ingest: Ingest, img: ArchiveImage): Promise<LoadedImage> {
  const config = await readJson<ImageConfigFile>(storage, img.configDigest);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== img.layerDigests.length) {
    throw new InvalidParameterError(`invalid archive: ${img.layerDigests.length} layers but ${diffIds.length} diff_ids in the config`);
  }
  const chains: string[] = [];
  let size = 0;
  let parent: string | null = null;
  for (let i = 0; i < diffIds.length; i++) {
    const row = await ingest.unpackBlob(img.layerDigests[i], parent, diffIds[i]);
    chains.push(row.chainId);
    size += row.size;
    parent = row.chainId;
  }
  const tags = img.refs.map((r) => referenceString(normalize(r)));
  const replaced: string[] = [];
  ingest.commit(
    {
      id: img.configDigest,
      config,
      manifestDigest: img.manifestDigest,
      chainIds: chains,
      blobs: [img.configDigest, ...img.layerDigests, ...(img.manifestDigest ? [img.manifestDigest] : [])],
      size,
    },
    () => {
      for (const t of tags) {
        const before = storage.store.setRef(t, img.configDigest, 'tag');
        if (before !== undefined) replaced.push(before);
      }
    },
  );
  return { id: img.configDigest, tags, replaced };
}

/** Load every image in the archive; `onImage` is called as each one is committed. */
export async function loadArchive(storage: Storage, src: Readable, onImage: (img: LoadedImage) => void): Promise<LoadedImage[]> {
  const ingest = storage.begin();
  try {
    const files = new Map<string, string>();
    const extract = tar.extract();
    const feeding = pipeline(await decompressed(src), extract);
    feeding.catch(() => undefined);
    for await (const entry of extract) {
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
        const { digest } = await ingest.writeBlob(Readable.from(entry, { objectMode: false }));
        files.set(confinePath(entry.header.name), digest);
      } else {
        for await (const _chunk of entry) {
          // directories, links: nothing to keep
        }
      }
    }
    await feeding;
    let images: ArchiveImage[];
    if (files.has('manifest.json')) images = await dockerArchiveImages(storage, files);
    else if (files.has('index.json')) images = await ociLayoutImages(storage, files);
    else throw new InvalidParameterError('invalid archive: neither manifest.json nor index.json found (is it a docker save or OCI layout tarball?)');
    const loaded: LoadedImage[] = [];
    for (const img of images) {
      const l = await registerImage(storage, ingest, img);
      loaded.push(l);
      onImage(l);
    }
    return loaded;
  } finally {
    await ingest.end();
  }
}
