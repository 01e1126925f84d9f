// docker push, as moby's distribution/push.go and push_v2.go: one tag, or every tag of the
// repository; per layer (5 at a time) a HEAD of the blobs known for it, a cross-repository
// mount from another repository of the registry, or an upload; then the config blob, the
// manifest, and the pushed digest recorded as a RepoDigest. Layers stored compressed go as they
// are; plain tars (commit, import, docker-archive load, build) are gzipped on the way and the
// compressed digest is remembered (blob-sources.ts) so the next push finds them by HEAD.
import { createHash } from 'node:crypto';
import { Transform, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { InvalidParameterError, NotFoundError, SystemError } from '../../errors.js';
import { familiarName, familiarString, parseNormalizedNamed, referenceName, referenceString, type ImageReference } from '../reference.js';
import { progressMsg, statusMsg, throttledProgress } from '../progress.js';
import { digestHex } from '../store/content-store.js';
import { layerBlobs, type LayerBlob } from '../store/layer-blobs.js';
import type { Storage } from '../store/storage.js';
import type { ImageRecord, ProgressFn, RegistryAuth } from '../types.js';
import { MEDIA_TYPES, RegistryClient, errorFromResponse } from './registry-client.js';
import { RegistryConfig } from './registry-config.js';
import { BlobPusher, MONOLITHIC_MAX, type UploadSession } from './blob-upload.js';
import type { BlobSource, BlobSources } from './blob-sources.js';
import { keptManifest } from './kept-manifest.js';
import { reusableManifest, schema2Manifest, type BlobRef } from './push-manifest.js';
import { faultPoint } from '../../util/fault-point.js';
import { eachLimited } from '../../util/each-limited.js';

/** dockerd's max-concurrent-uploads default. */
const UPLOAD_CONCURRENCY = 5;
const SMALL_LAYER = 100 << 10;
const MIDDLE_LAYER = 10 << 20;

export interface PushRequest {
  /** The repository, with the tag to push; without a tag every tag of the repository goes. */
  ref: ImageReference;
  auth?: RegistryAuth;
  progress: ProgressFn;
  signal?: AbortSignal;
  /** insecure-registries: which endpoints to try (HTTPS, then plain HTTP for an insecure one). */
  registry?: RegistryConfig;
}

export interface PushedTag {
  ref: string;
  imageId: string;
  digest: string;
  size: number;
}

/** A layer's local blob, and whether it goes as it is (else it is a plain tar to gzip). */
interface LocalLayer extends LayerBlob {
  asIs: boolean;
}

const shortId = (digest: string) => digestHex(digest).slice(0, 12);

/** The repository's tags, sorted as moby's reference store lists them (by full name). */
function tagsOf(storage: Storage, repoName: string): { ref: ImageReference; imageId: string }[] {
  const out: { ref: ImageReference; imageId: string; s: string }[] = [];
  for (const img of storage.store.list()) {
    for (const t of img.repoTags) {
      const ref = parseNormalizedNamed(t);
      if (referenceName(ref) === repoName && ref.tag !== undefined) out.push({ ref, imageId: img.id, s: t });
    }
  }
  return out.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
}

/** moby's getMaxMountAndExistenceCheckAttempts: small layers are cheaper to upload than to look for. */
function attempts(size: number): { mounts: number; checks: number; otherRepos: boolean } {
  if (size > MIDDLE_LAYER) return { mounts: 4, checks: 3, otherRepos: true };
  if (size > SMALL_LAYER) return { mounts: 3, checks: 1, otherRepos: false };
  return { mounts: 1, checks: 1, otherRepos: false };
}

function matchingComponents(repo: string, target: string[]): number {
  const parts = repo.split('/');
  let i = 0;
  while (i < parts.length && i < target.length && parts[i] === target[i]) i++;
  return i;
}

/** Newest first, then the ones sharing most leading path components with the target first. */
function byLikeness(target: string, sources: BlobSource[]): BlobSource[] {
  const t = target.split('/');
  return sources
    .map((s, i) => ({ s, i, m: matchingComponents(s.repository, t) }))
    .sort((a, b) => b.m - a.m || a.i - b.i)
    .map((x) => x.s);
}

function domainOf(repository: string): string {
  return repository.slice(0, repository.indexOf('/'));
}

class Pusher {
  private client!: RegistryClient;
  private blobs!: BlobPusher;
  private readonly repoName: string;
  /** diffID -> the blob the registry has for it (moby's pushState.remoteLayers), across tags. */
  private readonly remote = new Map<string, BlobRef>();
  private readonly stop = new AbortController();

  constructor(
    private readonly storage: Storage,
    private readonly sources: BlobSources,
    private readonly req: PushRequest,
  ) {
    this.repoName = referenceName(req.ref);
  }

  private get progress(): ProgressFn {
    return this.req.progress;
  }

  async run(): Promise<PushedTag[]> {
    const { ref } = this.req;
    this.progress(statusMsg(`The push refers to repository [${this.repoName}]`));
    const all = tagsOf(this.storage, this.repoName);
    if (all.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    if (ref.digest !== undefined) throw new InvalidParameterError('cannot push a digest reference');
    let targets = all;
    if (ref.tag !== undefined) {
      const id = this.storage.store.resolveRef(referenceString(ref));
      if (id === undefined) throw new NotFoundError(`tag does not exist: ${familiarString(ref)}`);
      targets = [{ ref, imageId: id }];
    }
    await this.connect();
    const pushed: PushedTag[] = [];
    try {
      for (const t of targets) pushed.push(await this.pushTag(t.ref, t.imageId));
    } finally {
      this.stop.abort();
    }
    return pushed;
  }

  /** The first endpoint that answers /v2/ (moby falls back from HTTPS to HTTP for an insecure registry). */
  private async connect(): Promise<void> {
    const { ref } = this.req;
    const signal = this.req.signal ? AbortSignal.any([this.req.signal, this.stop.signal]) : this.stop.signal;
    const endpoints = await (this.req.registry ?? new RegistryConfig()).endpoints(ref.domain, { mirrors: false });
    for (let i = 0; ; i++) {
      const client = new RegistryClient(ref.domain, ref.path, this.req.auth ?? {}, signal, { endpoint: endpoints[i], actions: ['pull', 'push'] });
      try {
        await client.ping();
      } catch (err) {
        if (signal.aborted || i === endpoints.length - 1) throw err;
        continue;
      }
      this.client = client;
      this.blobs = new BlobPusher(client);
      return;
    }
  }

  private async pushTag(ref: ImageReference, imageId: string): Promise<PushedTag> {
    const img = this.storage.store.get(imageId);
    if (img === undefined) throw new NotFoundError(`tag does not exist: ${familiarString(ref)}`);
    const ingest = this.storage.begin();
    try {
      // Held against a concurrent rmi for as long as they are read.
      ingest.hold(imageId);
      const diffIds = img.config.rootfs?.diff_ids ?? [];
      const kept = await keptManifest(this.storage, imageId, diffIds.length, this.repoName, img.repoDigests);
      if (kept) ingest.hold(kept.digest);
      const local: LocalLayer[] = kept
        ? kept.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, asIs: true }))
        : (await layerBlobs(this.storage, imageId, img.config, { memo: this.sources, signal: this.req.signal, verb: 'push' })).map((l) => ({ ...l, asIs: l.mediaType !== MEDIA_TYPES.ociLayer }));
      local.forEach((l) => ingest.hold(l.digest));
      const layerRefs = await this.pushLayers(img, diffIds, local);

      const configBytes = await this.readBlob(imageId, 'image config');
      const config: BlobRef = { digest: imageId, size: configBytes.length };
      await this.ensureBlob(config, configBytes);

      const manifest = (kept && reusableManifest(kept.body, config, layerRefs)) || schema2Manifest(config, layerRefs, local.map((l) => l.mediaType));
      faultPoint('push.before-manifest');
      const res = await this.client.call('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, { 'Content-Type': manifest.mediaType, 'Content-Length': String(manifest.body.length) }, manifest.body);
      if (res.status !== 201) throw await errorFromResponse(res);
      await res.body?.cancel();

      this.progress(statusMsg(`${ref.tag}: digest: ${manifest.digest} size: ${manifest.body.length}`));
      const repoDigest = `${this.repoName}@${manifest.digest}`;
      // the image may have been removed meanwhile: then there is nothing to add the digest to
      this.storage.store.transaction(() => {
        if (this.storage.store.get(imageId) !== undefined) this.storage.store.setRef(repoDigest, imageId, 'digest');
      });
      this.progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: manifest.digest, Size: manifest.body.length } });
      return { ref: referenceString(ref), imageId, digest: manifest.digest, size: manifest.body.length };
    } finally {
      await ingest.end();
    }
  }

  private async readBlob(digest: string, what: string): Promise<Buffer> {
    try {
      return await this.storage.content.readBuffer(digest);
    } catch {
      throw new SystemError(`${what} ${digest} is not in the content store`);
    }
  }

  /** A small blob (the config): nothing if the repository has it, else one POST and one PUT. */
  private async ensureBlob(blob: BlobRef, bytes: Buffer): Promise<void> {
    if ((await this.blobs.stat(blob.digest)) !== undefined) return;
    const session = await this.blobs.open();
    await this.blobs.putWhole(session, blob.digest, bytes, bytes.length);
  }

  /** Every layer on the registry; returns their blobs in the image's order. */
  private async pushLayers(img: ImageRecord, diffIds: string[], local: LocalLayer[]): Promise<BlobRef[]> {
    // moby lists the top layer first
    const order = diffIds.map((d, i) => ({ d, i })).reverse();
    const unique = order.filter((x, k) => order.findIndex((y) => y.d === x.d) === k);
    for (const { d } of order) this.progress(statusMsg('Preparing', shortId(d)));
    const pulledFrom = img.repoDigests.map((r) => referenceName(parseNormalizedNamed(r)));
    for (const { d } of unique.slice(UPLOAD_CONCURRENCY)) this.progress(statusMsg('Waiting', shortId(d)));
    await eachLimited(
      unique,
      UPLOAD_CONCURRENCY,
      async ({ d, i }) => {
        if (!this.remote.has(d)) this.remote.set(d, await this.pushLayer(d, local[i], pulledFrom));
        else this.progress(statusMsg('Layer already exists', shortId(d)));
      },
      { stopAfterFailure: true },
    ).catch((err) => {
      this.stop.abort();
      throw err;
    });
    return diffIds.map((d) => this.remote.get(d)!);
  }

  private async pushLayer(diffId: string, blob: LocalLayer, pulledFrom: string[]): Promise<BlobRef> {
    const id = shortId(diffId);
    const compressed = blob.asIs;
    const known = this.sources.forDiffId(diffId);
    if (compressed) {
      // the blob it came with is one of the layer's blobs, wherever it was pulled from
      for (const r of pulledFrom) known.push({ digest: blob.digest, repository: r });
      known.push({ digest: blob.digest, repository: this.repoName });
    }
    const candidates = byLikeness(this.repoName, dedupe(known));
    const limits = attempts(blob.size);
    const checked = new Set<string>();

    const found = async (source: BlobSource): Promise<BlobRef | undefined> => {
      checked.add(source.digest);
      let size: number | undefined;
      try {
        size = await this.blobs.stat(source.digest);
      } catch (err) {
        if (this.req.signal?.aborted) throw err;
        return undefined;
      }
      if (size === undefined) {
        if (source.repository === this.repoName) this.sources.remove(diffId, source);
        return undefined;
      }
      this.sources.add(diffId, { digest: source.digest, repository: this.repoName });
      this.progress(statusMsg('Layer already exists', id));
      return { digest: source.digest, size };
    };
    const existenceChecks = async (max: number, otherRepos: boolean): Promise<BlobRef | undefined> => {
      let n = 0;
      for (const c of candidates) {
        if (n >= max) break;
        if (checked.has(c.digest) || (!otherRepos && c.repository !== this.repoName)) continue;
        n++;
        const hit = await found(c);
        if (hit) return hit;
      }
      return undefined;
    };

    // a blob the layer is known by: is it there already?
    if (candidates.length > 0) {
      const hit = await existenceChecks(1, true);
      if (hit) return hit;
    }

    // mount from another repository of the same registry
    let session: UploadSession | undefined;
    const domain = domainOf(this.repoName);
    const mounts = candidates.filter((c) => c.repository !== this.repoName && domainOf(c.repository) === domain).slice(0, limits.mounts);
    for (const c of mounts) {
      const from = c.repository.slice(domain.length + 1);
      try {
        const outcome = await this.blobs.mount(c.digest, from);
        if (outcome.mounted) {
          if (session) await this.blobs.cancel(session);
          this.progress(statusMsg(`Mounted from ${from}`, id));
          this.sources.add(diffId, { digest: c.digest, repository: this.repoName });
          const size = c.digest === blob.digest ? blob.size : await this.blobs.stat(c.digest);
          if (size === undefined) throw new SystemError(`registry mounted ${c.digest} but does not have it`);
          return { digest: c.digest, size };
        }
        if (session) await this.blobs.cancel(session);
        session = outcome.session;
      } catch (err) {
        if (this.req.signal?.aborted) throw err;
      }
      this.sources.remove(diffId, c);
    }

    if (limits.checks - checked.size > 0) {
      const hit = await existenceChecks(limits.checks - checked.size, limits.otherRepos);
      if (hit) {
        if (session) await this.blobs.cancel(session);
        return hit;
      }
    }

    session ??= await this.blobs.open();
    const pushed = compressed ? await this.uploadAsIs(session, blob, id) : await this.uploadGzipped(session, blob, id);
    this.progress(statusMsg('Pushed', id));
    this.sources.add(diffId, { digest: pushed.digest, repository: this.repoName });
    return pushed;
  }

  /** A blob stored compressed goes byte for byte: its digest is known before the first byte. */
  private async uploadAsIs(session: UploadSession, blob: LayerBlob, id: string): Promise<BlobRef> {
    const onProgress = throttledProgress(this.progress, 'Pushing', id, blob.size);
    onProgress(0);
    const src = this.storage.content.read(blob.digest).pipe(counter(onProgress));
    if (blob.size <= MONOLITHIC_MAX) await this.blobs.putWhole(session, blob.digest, src, blob.size);
    else await this.blobs.putStream(session, src, () => blob.digest);
    return { digest: blob.digest, size: blob.size };
  }

  /** A plain tar is gzipped on the way; the digest is the compressed stream's, known at its end. */
  private async uploadGzipped(session: UploadSession, blob: LayerBlob, id: string): Promise<BlobRef> {
    const onProgress = throttledProgress(this.progress, 'Pushing', id, blob.size);
    this.progress(progressMsg('Pushing', id, 0, blob.size));
    const hash = createHash('sha256');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const src = this.storage.content.read(blob.digest);
    const compressed = pipeline(src, counter(onProgress), createGzip(), hasher, () => undefined);
    let digest = '';
    await this.blobs.putStream(session, compressed, () => (digest = `sha256:${hash.digest('hex')}`));
    return { digest, size };
  }
}

function dedupe(sources: BlobSource[]): BlobSource[] {
  const seen = new Set<string>();
  return sources.filter((s) => {
    const k = `${s.digest} ${s.repository}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Counts bytes through, for "Pushing" progress. */
function counter(onProgress: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onProgress(n);
      cb(null, chunk);
    },
  });
}

export async function pushImage(storage: Storage, sources: BlobSources, req: PushRequest): Promise<PushedTag[]> {
  return new Pusher(storage, sources, req).run();
}
