// docker pull: resolve the manifest, fetch the config, download layers in parallel (3 at a
// time, verified while streaming), unpack them in order, then record the image and its
// references in one transaction. Progress follows moby's distribution/pull_v2.go wording.
import { PassThrough } from 'node:stream';
import { BerthError, NotFoundError, SystemError } from '../../errors.js';
import { familiarName, familiarString, referenceName, referenceString, type ImageReference } from '../reference.js';
import { RegistryClient, RegistryHttpError, parsePlatform, type Descriptor } from './registry-client.js';
import { RegistryConfig } from './registry-config.js';
import { statusMsg, throttledProgress, progressMsg } from '../progress.js';
import { digestHex } from '../store/content-store.js';
import { chainIds } from '../store/chain-id.js';
import { LIMITS, readAtMost } from '../read-at-most.js';
import { checkPullableLayer } from './layer-media-types.js';
import type { Storage } from '../store/storage.js';
import type { ImageConfigFile, ImageRecord, ProgressFn, RegistryAuth } from '../types.js';

const DOWNLOAD_CONCURRENCY = 3;
const UNPACK_CONCURRENCY = 3;

/** `run(fn)` runs fn with at most `limit` of them in flight. */
function limiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

export interface PullRequest {
  ref: ImageReference;
  auth?: RegistryAuth;
  platform?: string;
  progress: ProgressFn;
  signal?: AbortSignal;
  /** The daemon's insecure registries and mirrors; default: loopback insecure, no mirrors. */
  registry?: RegistryConfig;
}

export interface PullOutcome {
  imageId: string;
  /** The image the tag pointed at before, if another (it may now be dangling). */
  previous: string | undefined;
  upToDate: boolean;
}

/** Docker's wording for registry errors met while resolving what to pull. */
function translateResolveError(err: unknown, ref: ImageReference): Error {
  if (!(err instanceof RegistryHttpError)) return err as Error;
  // moby's TranslatePullError: its first error decides, and only these mean "denied"
  const first = err.codes[0];
  if (first === 'DENIED' || first === 'NAME_UNKNOWN' || (err.status === 403 && first === undefined)) {
    return new NotFoundError(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${err.firstMessage}`);
  }
  if (err.status === 404) return new NotFoundError(`manifest for ${familiarString(ref)} not found: ${err.message}`);
  // moby asks for a tag with a HEAD, whose 401 has no body to say more
  if (err.status === 401 && first !== 'DENIED') return new SystemError('unauthorized: authentication required');
  return new SystemError(err.message);
}

function shortId(digest: string): string {
  return digestHex(digest).slice(0, 12);
}

/** Run `fn` over items with at most `limit` in flight; results in order, first error wins. */
function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R>[] {
  const slot = limiter(limit);
  return items.map((item, i) => {
    const p = slot(() => fn(item, i));
    p.catch(() => undefined);
    return p;
  });
}

/**
 * A layer download that broke off: Node says 'aborted' or 'terminated' where Go says
 * 'unexpected EOF'; what was received is kept for the next pull.
 */
function downloadError(err: unknown, digest: string, signal: AbortSignal): unknown {
  if (signal.aborted || err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  const broken = e?.code === 'ECONNRESET' || e?.message === 'aborted' || e?.message === 'terminated' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE';
  return new SystemError(`failed to download layer ${digest}: ${broken ? 'unexpected EOF (the registry closed the connection; the next pull resumes where this one stopped)' : (e?.message ?? String(err))}`);
}

/** A descriptor's size is what its blob is capped at while streaming, so it must be one. */
function checkSize(d: Descriptor, what: string): void {
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new SystemError(`invalid image manifest: ${what} ${d.digest} has no valid size`);
}

async function readConfig(storage: Storage, digest: string): Promise<ImageConfigFile> {
  const raw = await readAtMost(storage.content.read(digest), LIMITS.config, `image config ${digest}`);
  try {
    return JSON.parse(raw.toString('utf8')) as ImageConfigFile;
  } catch {
    throw new SystemError(`invalid image config ${digest}: not JSON`);
  }
}

/**
 * Find the image at the first endpoint that has it, as moby's pull loop: docker.io's mirrors
 * before docker.io, an insecure registry's HTTPS before its plain HTTP. An endpoint that cannot
 * be reached, or a mirror that cannot give the manifest, passes the pull to the next one; the
 * last one's error is the pull's. Mirrors never see the credentials given for the registry.
 */
async function resolveFromEndpoints(req: PullRequest, reference: string, signal: AbortSignal): Promise<{ client: RegistryClient; resolved: Awaited<ReturnType<RegistryClient['resolveImage']>> }> {
  const { ref } = req;
  const endpoints = await (req.registry ?? new RegistryConfig()).endpoints(ref.domain, { mirrors: true });
  for (let i = 0; ; i++) {
    const endpoint = endpoints[i];
    const last = i === endpoints.length - 1;
    const client = new RegistryClient(ref.domain, ref.path, endpoint.mirror ? {} : (req.auth ?? {}), signal, { endpoint });
    try {
      await client.ping();
    } catch (err) {
      if (signal.aborted || last) throw err;
      continue;
    }
    try {
      return { client, resolved: await client.resolveImage(reference, parsePlatform(req.platform)) };
    } catch (err) {
      if (signal.aborted || last || !endpoint.mirror) throw translateResolveError(err, ref);
    }
  }
}

export async function pullImage(storage: Storage, req: PullRequest): Promise<PullOutcome> {
  const { ref, progress } = req;
  // Aborted when the client leaves and when the pull ends: after a failed step the other
  // downloads must stop before the ingest ends, or their blobs land after it has collected.
  const stop = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const { client, resolved } = await resolveFromEndpoints(req, reference, signal);
  const { manifest } = resolved;
  // moby names the repository by its path in the registry: 'library/busybox', 'busybox' for 127.0.0.1:5000/busybox.
  progress({ status: `Pulling from ${ref.path}`, id: reference });

  checkSize(manifest.config, 'config');
  manifest.layers.forEach((l) => checkSize(l, 'layer'));
  manifest.layers.forEach(checkPullableLayer);
  if (manifest.config.size > LIMITS.config) {
    throw new SystemError(`image config ${manifest.config.digest} is ${manifest.config.size} bytes, more than the ${LIMITS.config} allowed`);
  }

  const ingest = storage.begin();
  let downloads: Promise<void>[] = [];
  let unpacks: Promise<number>[] = [];
  let streamedAll: () => Promise<unknown>[] = () => [];
  try {
    // shared with other pulls like a layer, but not kept when this pull fails: it is small
    await ingest.fetchBlob(manifest.config.digest, manifest.config.size, (offset, sig) => client.getBlobFrom(manifest.config.digest, offset, sig), { signal, lease: false });
    const config = await readConfig(storage, manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new SystemError(`invalid image: ${manifest.layers.length} layers in the manifest but ${diffIds.length} diff_ids in the config`);
    }
    const imageId = manifest.config.digest;
    const tagRef = ref.tag !== undefined ? referenceString({ ...ref, digest: undefined }) : undefined;
    const previous = tagRef !== undefined ? storage.store.resolveRef(tagRef) : undefined;

    // Which layers are already unpacked (same chain)?
    const chains = chainIds(diffIds);
    const present: boolean[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      ingest.hold(chains[i]);
      present.push(storage.store.layer(chains[i]) !== undefined && (await storage.layers.exists(chains[i])));
    }
    // Like pull_v2: an image already stored needs no layer messages at all.
    const complete = storage.store.get(imageId) !== undefined && present.every(Boolean);
    if (!complete) manifest.layers.forEach((l, i) => progress(statusMsg(present[i] ? 'Already exists' : 'Pulling fs layer', shortId(l.digest))));
    const toFetch = manifest.layers.map((l, i) => ({ l, i })).filter(({ i }) => !present[i]);
    toFetch.slice(DOWNLOAD_CONCURRENCY).forEach(({ l }) => progress(statusMsg('Waiting', shortId(l.digest))));

    // Each layer is its own dir (overlay stacks them at mount time), so a layer is unpacked
    // while it downloads, beside the others, in any order: its chainID comes from the
    // config's diff_ids, not from the layer below being there. The download is the unpack's
    // source as it arrives (a tee); the layer dir only counts once the blob is verified too.
    // Without a tee's whole stream (a resumed or shared download, a blob already stored) the
    // layer is unpacked from the stored blob afterwards, as is one whose streamed unpack failed
    // (whose error, if the blob's unpack fails again, is the one reported).
    const streamed = new Map<number, Promise<number | undefined>>();
    downloads = mapLimited(toFetch, DOWNLOAD_CONCURRENCY, async ({ l, i }: { l: Descriptor; i: number }) => {
      signal.throwIfAborted();
      const id = shortId(l.digest);
      const tee = new PassThrough({ highWaterMark: 1 << 20 });
      // its end in an error is for the unpack reading it, which may have stopped reading already
      tee.on('error', () => undefined);
      const unpacking = ingest.unpackStream(tee, i === 0 ? null : chains[i - 1], diffIds[i]).then(
        (row) => row.size,
        () => undefined,
      );
      streamed.set(i, unpacking);
      await ingest
        .fetchBlob(l.digest, l.size, (offset, sig) => client.getBlobFrom(l.digest, offset, sig), {
          signal,
          tee,
          onProgress: throttledProgress(progress, 'Downloading', id, l.size),
        })
        .catch((err: unknown) => {
          throw downloadError(err, l.digest, signal);
        });
      progress(statusMsg('Verifying Checksum', id));
      progress(statusMsg('Download complete', id));
    });
    const unpackSlot = limiter(UNPACK_CONCURRENCY);
    unpacks = toFetch.map(({ l, i }, k) =>
      downloads[k].then(async () => {
        const id = shortId(l.digest);
        progress(progressMsg('Extracting', id, 0, l.size));
        let size = await streamed.get(i);
        if (size === undefined) {
          size = await unpackSlot(async () => {
            signal.throwIfAborted();
            return (await ingest.unpackBlob(l.digest, i === 0 ? null : chains[i - 1], diffIds[i])).size;
          });
        }
        progress(progressMsg('Extracting', id, l.size, l.size));
        progress(statusMsg('Pull complete', id));
        return size;
      }),
    );
    // a failed download still has its streamed unpack to wait for before the ingest ends
    streamedAll = () => [...streamed.values()];
    unpacks.forEach((p) => p.catch(() => undefined));
    const unpackedSizes = await Promise.all(unpacks);
    const size =
      unpackedSizes.reduce((a, b) => a + b, 0) + chains.filter((_c, i) => present[i]).reduce((a, c) => a + (storage.store.layer(c)?.size ?? 0), 0);
    await Promise.all(downloads);

    await ingest.writeBuffer(resolved.manifestBody, resolved.manifestDigest);
    const repoDigest = `${referenceName(ref)}@${resolved.digest}`;
    const upToDate = previous === imageId;
    ingest.commit(
      {
        id: imageId,
        config,
        manifestDigest: resolved.manifestDigest,
        chainIds: chains,
        blobs: [manifest.config.digest, resolved.manifestDigest, ...manifest.layers.map((l) => l.digest)],
        size,
      },
      () => {
        if (tagRef !== undefined) storage.store.setRef(tagRef, imageId, 'tag');
        storage.store.setRef(repoDigest, imageId, 'digest');
      },
    );
    progress(statusMsg(`Digest: ${resolved.digest}`));
    progress(statusMsg(`Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}`));
    return { imageId, previous: upToDate ? undefined : previous, upToDate };
  } finally {
    stop.abort();
    await Promise.allSettled(downloads);
    await Promise.allSettled(unpacks);
    await Promise.allSettled(streamedAll());
    await ingest.end();
    // leases run out while the daemon runs too, not only at its start
    await storage.dropLeases({ expiredOnly: true }).catch(() => undefined);
  }
}

export type { ImageRecord };
