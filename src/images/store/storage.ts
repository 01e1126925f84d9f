// The three stores behind images (SQLite rows, content blobs, layer dirs) and the one rule
// that ties them: whatever an operation creates is either committed with an image row or
// removed again when the operation fails. An Ingest tracks what one operation created and
// what it relies on, so a failed pull never deletes a layer a concurrent pull is using.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ContentStore } from './content-store.js';
import { ImageStore, type NewImage } from './image-store.js';
import { LayerSnapshots } from './layer-snapshots.js';
import { chainIds } from './chain-id.js';

export class Storage {
  readonly content: ContentStore;
  readonly layers: LayerSnapshots;
  /** chainIDs and blob digests held by operations in flight, with counts. */
  private readonly held = new Map<string, number>();

  constructor(
    readonly store: ImageStore,
    root: string,
    readonly logger: Logger,
  ) {
    this.content = new ContentStore(root);
    this.layers = new LayerSnapshots(root);
  }

  /**
   * Startup: drop ingest files, tmp layer dirs, and layers/blobs that neither an image row nor
   * a container uses (left by a crash). A damaged snapshots dir is repaired, not fatal: what
   * is lost is reported per image, whose next pull or load unpacks it again.
   */
  initSync(): void {
    this.content.initSync();
    const present = this.layers.initSync((fields, msg) => this.logger.warn(fields, msg));
    for (const chain of present) {
      if (!this.store.chainInUse(chain)) {
        this.logger.info({ chain }, 'removing unused layer snapshot left by an interrupted operation');
        void this.layers.remove(chain).catch((err) => this.logger.error({ err, chain }, 'removing an unused layer snapshot failed'));
      }
    }
    // Rows whose dir vanished, or whose dir was just removed as unused.
    const presentSet = new Set(present);
    for (const chain of this.store.allLayerChainIds()) {
      if (!this.store.chainInUse(chain) || !presentSet.has(chain)) this.store.deleteLayerRow(chain);
    }
    for (const img of this.store.list()) {
      const missing = this.store.chainIdsOf(img.id).filter((c) => !presentSet.has(c));
      if (missing.length > 0) {
        this.logger.warn({ image: img.id, tags: img.repoTags, missing }, 'image layers are missing from the data-root: pull or load the image again, or remove it');
      }
    }
    for (const digest of this.content.listSync()) {
      if (!this.store.blobInUse(digest)) void this.content.delete(digest);
    }
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

  /** Remove a layer dir and blob unless an image, a container or an operation in flight uses it. */
  async collect(chains: string[], blobs: string[]): Promise<void> {
    for (const c of chains) {
      if (!this.store.chainInUse(c) && !this.isHeld(c)) {
        this.store.transaction(() => this.store.deleteLayerRow(c));
        await this.layers.remove(c);
      }
    }
    for (const b of blobs) {
      if (!this.store.blobInUse(b) && !this.isHeld(b)) await this.content.delete(b);
    }
  }
}

export class Ingest {
  private readonly createdChains: string[] = [];
  private readonly createdBlobs: string[] = [];
  private readonly keys: string[] = [];
  private done = false;

  constructor(private readonly s: Storage) {}

  /** Mark a chain or blob as relied on by this operation (so others will not collect it). */
  hold(key: string): void {
    this.s.hold(key);
    this.keys.push(key);
  }

  async writeBlob(src: Readable, opts: Parameters<Storage['content']['write']>[1] = {}): Promise<{ digest: string; size: number }> {
    const existed = opts.expectedDigest !== undefined && (await this.s.content.has(opts.expectedDigest));
    if (opts.expectedDigest !== undefined) this.hold(opts.expectedDigest);
    if (existed) {
      src.destroy();
      return { digest: opts.expectedDigest!, size: await this.s.content.size(opts.expectedDigest!) };
    }
    const res = await this.s.content.write(src, opts);
    if (opts.expectedDigest === undefined) this.hold(res.digest);
    this.createdBlobs.push(res.digest);
    return res;
  }

  async writeBuffer(data: Buffer, expectedDigest?: string): Promise<string> {
    return (await this.writeBlob(Readable.from([data]), { expectedDigest })).digest;
  }

  /**
   * Unpack the blob as the layer on top of `parentChain`, recording its row. If the chain
   * already exists (and `expectedDiffId` lets us know it), nothing is unpacked.
   */
  async unpackBlob(blobDigest: string, parentChain: string | null, expectedDiffId?: string): Promise<{ chainId: string; diffId: string; size: number }> {
    if (expectedDiffId !== undefined) {
      const chainId = parentChain === null ? expectedDiffId : chainIds([parentChain, expectedDiffId])[1];
      this.hold(chainId);
      const row = this.s.store.layer(chainId);
      if (row !== undefined && (await this.s.layers.exists(chainId))) return row;
    }
    const res = await this.s.layers.unpack(this.s.content.read(blobDigest), parentChain, expectedDiffId);
    if (expectedDiffId === undefined) this.hold(res.chainId);
    if (res.created) this.createdChains.push(res.chainId);
    this.s.store.transaction(() => this.s.store.putLayer({ chainId: res.chainId, diffId: res.diffId, size: res.size }));
    const row = this.s.store.layer(res.chainId)!;
    return row;
  }

  /** Record the image row, and run `more` (references) in the same transaction. */
  commit(img: NewImage, more: () => void = () => undefined): void {
    this.s.store.transaction(() => {
      this.s.store.addImage(img);
      more();
    });
  }

  /**
   * Always call when the operation ends, failed or not: lets go of holds and removes what
   * this operation created that no committed image uses.
   */
  async end(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const k of this.keys) this.s.release(k);
    await this.s.collect(this.createdChains, this.createdBlobs);
  }
}
