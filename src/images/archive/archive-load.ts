// docker load: a docker-archive (manifest.json + config + layer tars, as `docker save`
// writes) or an OCI image layout (index.json + blobs/). The tarball is streamed entry by
// entry into the content store, so nothing is held in memory; the index files are read back
// from there once the whole archive has arrived. Nothing in the archive is trusted: a blob
// under blobs/sha256/<hex> must hash to <hex>, JSON files are read up to a size cap, and the
// walk through nested indexes is bounded.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../errors.js';
import { decompressed } from '../layers/compression.js';
import { digestHex } from '../store/content-store.js';
import { LIMITS, SizeLimitError, readAtMost } from '../read-at-most.js';
import { confinePath } from '../layers/unpack.js';
import { ArchiveEntries } from './archive-entries.js';
import { normalize, referenceString } from '../reference.js';
import { MEDIA_TYPES, defaultPlatform, type Descriptor } from '../distribution/registry-client.js';
import type { Ingest, Storage } from '../store/storage.js';
import type { ImageConfigFile } from '../types.js';
import { faultPoint } from '../../util/fault-point.js';

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

/** An index inside an index inside...: real layouts nest one or two deep. */
const MAX_INDEX_DEPTH = 8;

const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/;

async function readJson<T>(storage: Storage, digest: string, limit: number, what: string): Promise<T> {
  let raw: Buffer;
  try {
    raw = await readAtMost(storage.content.read(digest), limit, what);
  } catch (err) {
    if (err instanceof SizeLimitError) throw new InvalidParameterError(`invalid archive: ${err.message}`);
    throw err;
  }
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    throw new InvalidParameterError(`invalid archive: ${what} is not valid JSON`);
  }
}

function need(files: ArchiveEntries, name: string): string {
  const d = files.get(name);
  if (d === undefined) throw new InvalidParameterError(`invalid archive: ${name} referenced but not present`);
  return d;
}

async function dockerArchiveImages(storage: Storage, files: ArchiveEntries): Promise<ArchiveImage[]> {
  const manifest = await readJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(storage, files.get('manifest.json')!, LIMITS.tarManifest, 'manifest.json');
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!Array.isArray(manifest) || !manifest.every((m) => typeof m?.Config === 'string' && strings(m.Layers) && (m.RepoTags == null || strings(m.RepoTags)))) {
    throw new InvalidParameterError('invalid archive: manifest.json is not a list of images with Config and Layers');
  }
  return manifest.map((m) => ({
    configDigest: need(files, m.Config),
    layerDigests: m.Layers.map((l) => need(files, l)),
    manifestDigest: null,
    refs: m.RepoTags ?? [],
  }));
}

/** The blob a descriptor names; its content was checked against the name on the way in. */
function blobOf(files: ArchiveEntries, desc: Descriptor | undefined): string {
  if (typeof desc?.digest !== 'string') throw new InvalidParameterError('invalid archive: a descriptor has no digest');
  const digest = need(files, `blobs/sha256/${digestHex(desc.digest)}`);
  if (digest !== desc.digest) throw new InvalidParameterError(`invalid archive: blob ${desc.digest} does not match its content`);
  return digest;
}

function manifestsOf(idx: { manifests?: unknown }, what: string): Descriptor[] {
  if (!Array.isArray(idx?.manifests)) throw new InvalidParameterError(`invalid archive: ${what} has no manifests list`);
  return idx.manifests as Descriptor[];
}

async function ociLayoutImages(storage: Storage, files: ArchiveEntries, signal?: AbortSignal): Promise<ArchiveImage[]> {
  const out: ArchiveImage[] = [];
  const platform = defaultPlatform();
  // `path` holds the indexes above this one: digests are verified, so a cycle would take a
  // hash collision, but the walk is bounded whatever an archive claims.
  const visit = async (desc: Descriptor, name: string | undefined, path: string[]): Promise<void> => {
    signal?.throwIfAborted();
    const digest = blobOf(files, desc);
    if (desc.mediaType === MEDIA_TYPES.ociIndex || desc.mediaType === MEDIA_TYPES.dockerList) {
      if (path.includes(digest)) throw new InvalidParameterError(`invalid archive: index ${digest} lists itself`);
      if (path.length >= MAX_INDEX_DEPTH) throw new InvalidParameterError(`invalid archive: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
      const manifests = manifestsOf(await readJson<{ manifests?: unknown }>(storage, digest, LIMITS.manifest, `index ${digest}`), `index ${digest}`);
      const pick = manifests.find((m) => !m?.platform || (m.platform.os === platform.os && m.platform.architecture === platform.architecture)) ?? manifests[0];
      if (pick) await visit(pick, name, [...path, digest]);
      return;
    }
    const m = await readJson<{ config?: Descriptor; layers?: Descriptor[] }>(storage, digest, LIMITS.manifest, `manifest ${digest}`);
    if (!Array.isArray(m?.layers)) throw new InvalidParameterError(`invalid archive: manifest ${digest} has no layers list`);
    out.push({ configDigest: blobOf(files, m.config), layerDigests: m.layers.map((l) => blobOf(files, l)), manifestDigest: digest, refs: name ? [name] : [] });
  };
  const index = await readJson<{ manifests?: unknown }>(storage, files.get('index.json')!, LIMITS.manifest, 'index.json');
  for (const d of manifestsOf(index, 'index.json') as (Descriptor & { annotations?: Record<string, string> })[]) {
    await visit(d, d?.annotations?.['io.containerd.image.name'], []);
  }
  return out;
}

async function registerImage(storage: Storage, ingest: Ingest, img: ArchiveImage): Promise<LoadedImage> {
  const config = await readJson<ImageConfigFile>(storage, img.configDigest, LIMITS.config, `image config ${img.configDigest}`);
  const diffIds = config?.rootfs?.diff_ids ?? [];
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
    faultPoint('load.after-layer');
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

/**
 * Load every image in the archive; `onImage` is called as each one is committed. `signal`
 * (the client leaving) stops it at the next step.
 */
export async function loadArchive(storage: Storage, src: Readable, onImage: (img: LoadedImage) => void, signal?: AbortSignal): Promise<LoadedImage[]> {
  signal?.throwIfAborted();
  const ingest = storage.begin();
  // Reading the body may wait for the client; ending the body ends that wait too.
  const onAbort = () => src.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const files = new ArchiveEntries();
    const extract = tar.extract();
    const feeding = pipeline(await decompressed(src), extract, { signal });
    feeding.catch(() => undefined);
    for await (const entry of extract) {
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
        const name = confinePath(entry.header.name);
        const { digest } = await ingest.writeBlob(Readable.from(entry, { objectMode: false }), { signal });
        const named = BLOB_NAME.exec(name);
        if (named !== null && digest !== `sha256:${named[1]}`) {
          throw new InvalidParameterError(`invalid archive: the content of ${name} does not match its digest`);
        }
        files.addFile(name, digest);
      } else {
        if (entry.header.type === 'symlink') files.addSymlink(entry.header.name, entry.header.linkname ?? '');
        else if (entry.header.type === 'link') files.addHardLink(entry.header.name, entry.header.linkname ?? '');
        for await (const _chunk of entry) {
          // directories, devices: nothing to keep
        }
      }
    }
    await feeding;
    let images: ArchiveImage[];
    if (files.has('manifest.json')) images = await dockerArchiveImages(storage, files);
    else if (files.has('index.json')) images = await ociLayoutImages(storage, files, signal);
    else throw new InvalidParameterError('invalid archive: neither manifest.json nor index.json found (is it a docker save or OCI layout tarball?)');
    const loaded: LoadedImage[] = [];
    for (const img of images) {
      signal?.throwIfAborted();
      const l = await registerImage(storage, ingest, img);
      loaded.push(l);
      onImage(l);
    }
    return loaded;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await ingest.end();
  }
}
