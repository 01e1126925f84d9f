// The three stores behind images (SQLite rows, content blobs, layer dirs) and the one rule
// that ties them: whatever an operation creates is either committed with an image row or
// removed again when the operation fails. An Ingest tracks what one operation created and
// what it relies on, so a failed pull never deletes a layer a concurrent pull is using. The
// one exception: blobs a pull fully downloaded and verified stay under a lease (blob-leases.ts)
// when the pull does not finish, so the next pull fetches only the rest.
// Freeing is gc.ts's sweep; an Ingest holds every key before it looks for it on disk.
import { Readable, type Writable } from 'node:stream';
import { SystemError } from '../../errors.js';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { ContentStore, type OpenAt } from './content-store.js';
import { BlobLeases, LEASE_TTL_MS, type BlobLease } from './blob-leases.js';
import { SharedDownloads, type Progress } from './shared-downloads.js';
import { ImageStore, type NewImage } from './image-store.js';
import { LayerSnapshots } from './layer-snapshots.js';
import { chainIds } from './chain-id.js';
import { GarbageCollector, type SweepResult } from './gc.js';
import { faultPoint } from '../../util/fault-point.js';

/** Blobs up to this size are unpacked on the daemon's thread (a worker's start-up costs more than they do). */
const INLINE_UNPACK_MAX = 1 << 20;

export class Storage {
  readonly content: ContentStore;
  readonly layers: LayerSnapshots;
  readonly leases: BlobLeases;
  /** Registry downloads in flight, shared by the pulls that need the same blob. */
  readonly downloads = new SharedDownloads();
  /** chainIDs and blob digests held by operations in flight, with counts. */
  private readonly held = new Map<string, number>();
  readonly gc: GarbageCollector;

  constructor(
    readonly store: ImageStore,
    root: string,
    readonly logger: Logger,
    db: Database,
  ) {
    const gate = () => this.gc.quiesce();
    this.content = new ContentStore(root, gate);
    this.layers = new LayerSnapshots(root, gate);
    this.leases = new BlobLeases(db);
    // a lease is a root: it keeps an unfinished pull's verified blobs
    this.gc = new GarbageCollector({ store, content: this.content, layers: this.layers, isHeld: (k) => this.isHeld(k) || this.leases.holds(k), logger });
  }

  /**
   * Blobs kept for pulls that did not finish (for `docker system df` and the garbage
   * collector): complete, verified blobs under a lease, with their size; partial downloads
   * are in content.partials().
   */
  async leasedBlobs(): Promise<(BlobLease & { size: number })[]> {
    const out: (BlobLease & { size: number })[] = [];
    for (const l of this.leases.list()) {
      const size = await this.content.size(l.digest).catch(() => undefined);
      if (size !== undefined) out.push({ ...l, size });
    }
    return out;
  }

  /**
   * Drop leases (all, or the expired ones) and partial downloads (all, or those no download
   * is writing and older than the lease time), removing each blob nothing else keeps.
   * Returns what was freed. `docker image prune` and the garbage collector call this.
   */
  async dropLeases(opts: { expiredOnly?: boolean } = {}): Promise<{ digest: string; size: number }[]> {
    const now = Date.now();
    const freed: { digest: string; size: number }[] = [];
    const sizes = new Map<string, number>();
    for (const l of this.leases.list()) {
      if (opts.expiredOnly && l.expiresAt > now) continue;
      const size = await this.content.size(l.digest).catch(() => undefined);
      if (size !== undefined) sizes.set(l.digest, size);
      this.leases.drop(l.digest);
    }
    // the sweep removes what nothing else keeps (an image, a pull in flight)
    if (sizes.size > 0) {
      for (const b of (await this.collect()).blobs) {
        const size = sizes.get(b);
        if (size !== undefined) freed.push({ digest: b, size });
      }
    }
    if (!opts.expiredOnly) {
      const busy = new Set(this.downloads.inFlight());
      for (const p of await this.content.partials()) {
        if (busy.has(p.digest)) continue;
        await this.content.deletePartial(p.digest);
        freed.push(p);
      }
    }
    return freed;
  }

  /**
   * Startup: drop ingest files, tmp layer dirs, and layers/blobs that neither an image row nor
   * a container uses (left by a crash). A damaged snapshots dir is repaired, not fatal: what
   * is lost is reported per image, whose next pull or load unpacks it again.
   */
  initSync(): void {
    this.content.initSync(LEASE_TTL_MS);
    const now = Date.now();
    for (const l of this.leases.list()) if (l.expiresAt <= now) this.leases.drop(l.digest);
    const present = this.layers.initSync((fields, msg) => this.logger.warn(fields, msg));
    // Rows whose dir vanished (unused ones and unused dirs go with the first sweep, below).
    const presentSet = new Set(present);
    for (const chain of this.store.allLayerChainIds()) {
      if (!presentSet.has(chain)) this.store.deleteLayerRow(chain);
    }
    for (const img of this.store.list()) {
      const missing = this.store.chainIdsOf(img.id).filter((c) => !presentSet.has(c));
      if (missing.length > 0) {
        this.logger.warn({ image: img.id, tags: img.repoTags, missing }, 'image layers are missing from the data-root: pull or load the image again, or remove it');
      }
    }
    void this.collect().catch((err) => this.logger.error({ err }, 'the start-up garbage collection failed'));
  }

  isHeld(key: string): boolean {
    return (this.held.get(key) ?? 0) > 0;
  }

  hold(key: string): void {
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const n = (this.held.get(key) ?? 0) - 1;
    if (n <= 0) this.held.delete(key);
    else this.held.set(key, n);
  }

  begin(): Ingest {
    return new Ingest(this);
  }

  /**
   * Free every layer dir, layer row and blob that no image, container, operation in flight or
   * registered root uses; resolves once a sweep that began after the call is done.
   */
  collect(): Promise<SweepResult> {
    return this.gc.collect();
  }
}

export class Ingest {
  private readonly keys: string[] = [];
  private done = false;

  constructor(private readonly s: Storage) {}

  /** Mark a chain or blob as relied on by this operation (so others will not collect it). */
  hold(key: string): void {
    this.s.hold(key);
    this.keys.push(key);
  }

  async writeBlob(src: Readable, opts: Parameters<Storage['content']['write']>[1] = {}): Promise<{ digest: string; size: number }> {
    // held before it is looked for: a sweep deciding later keeps it, one deleting now is waited for
    if (opts.expectedDigest !== undefined) {
      this.hold(opts.expectedDigest);
      if (await this.s.content.has(opts.expectedDigest)) {
        src.destroy();
        return { digest: opts.expectedDigest, size: await this.s.content.size(opts.expectedDigest) };
      }
    }
    const expected = opts.expectedDigest;
    return this.s.content.write(src, { ...opts, onDigest: (d) => (d === expected ? undefined : this.hold(d)) });
  }

  /**
   * A registry blob into the store, sharing the download with any other pull fetching it and
   * resuming what an interrupted one kept (`open(offset)` asks the registry for the rest).
   * Once verified it is leased: if this pull does not finish, the blob stays for the next.
   */
  async fetchBlob(
    digest: string,
    size: number,
    open: OpenAt,
    opts: { signal?: AbortSignal; onProgress?: Progress; lease?: boolean; tee?: Writable } = {},
  ): Promise<'fetched' | 'present'> {
    const tee = opts.tee;
    try {
      this.hold(digest);
      if (await this.s.content.has(digest)) return 'present';
      await this.s.downloads.run(
        digest,
        async (signal, progress) => {
          // another pull may have finished it between the check above and now
          if (await this.s.content.has(digest)) return;
          await this.s.content.fetchResumable(digest, size, open, { signal, onProgress: progress, tee: opts.signal?.aborted ? undefined : tee });
          if (opts.lease !== false && !this.s.store.blobInUse(digest)) this.s.leases.put(digest);
        },
        opts,
      );
      // collected at end() unless an image, a lease or another operation keeps it
      return 'fetched';
    } finally {
      // The tee gets the bytes only when this call did the download itself, from its start;
      // otherwise (present, joined another pull's download, left early) it ends in an error.
      if (tee !== undefined && !tee.writableEnded && !tee.destroyed) tee.destroy(new SystemError(`blob ${digest} was not streamed`));
    }
  }

  async writeBuffer(data: Buffer, expectedDigest?: string): Promise<string> {
    return (await this.writeBlob(Readable.from([data]), { expectedDigest })).digest;
  }

  /**
   * Unpack the blob as the layer on top of `parentChain`, recording its row. If the chain
   * already exists (and `expectedDiffId` lets us know it), nothing is unpacked.
   */
  async unpackBlob(blobDigest: string, parentChain: string | null, expectedDiffId?: string): Promise<{ chainId: string; diffId: string; size: number }> {
    // a build step's layer is often a few KB: unpacked on this thread, without a worker's start-up
    const inline = (await this.s.content.size(blobDigest).catch(() => Infinity)) <= INLINE_UNPACK_MAX;
    return this.unpackFrom(() => this.s.content.read(blobDigest), parentChain, expectedDiffId, undefined, inline);
  }

  /**
   * Unpack a layer from a stream (a download's tee) rather than a stored blob; as unpackBlob.
   * When the chain is already there nothing is unpacked and the stream is let go.
   */
  async unpackStream(src: Readable, parentChain: string | null, expectedDiffId: string): Promise<{ chainId: string; diffId: string; size: number }> {
    return this.unpackFrom(() => src, parentChain, expectedDiffId, () => src.destroy());
  }

  private async unpackFrom(
    source: () => Readable,
    parentChain: string | null,
    expectedDiffId: string | undefined,
    skipped: () => void = () => undefined,
    inline = false,
  ): Promise<{ chainId: string; diffId: string; size: number }> {
    if (expectedDiffId !== undefined) {
      const chainId = parentChain === null ? expectedDiffId : chainIds([parentChain, expectedDiffId])[1];
      this.hold(chainId);
      const row = this.s.store.layer(chainId);
      if (row !== undefined && (await this.s.layers.exists(chainId))) {
        skipped();
        return row;
      }
    }
    const expectedChain = expectedDiffId === undefined ? undefined : parentChain === null ? expectedDiffId : chainIds([parentChain, expectedDiffId])[1];
    const res = await this.s.layers.unpack(source(), parentChain, expectedDiffId, (c) => (c === expectedChain ? undefined : this.hold(c)), { inline });
    faultPoint('layer.before-row');
    this.s.store.transaction(() => this.s.store.putLayer({ chainId: res.chainId, diffId: res.diffId, size: res.size }));
    const row = this.s.store.layer(res.chainId)!;
    return row;
  }

  /** Record the image row, and run `more` (references) in the same transaction. */
  commit(img: NewImage, more: () => void = () => undefined): void {
    faultPoint('image.before-row');
    this.s.store.transaction(() => {
      this.s.store.addImage(img);
      for (const b of img.blobs) this.s.leases.drop(b);
      more();
    });
  }

  /**
   * Always call when the operation ends, failed or not: lets go of holds and removes what
   * this operation created (or found) that no committed image uses.
   */
  async end(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const k of this.keys) this.s.release(k);
    await this.s.collect();
  }
}
