// The images' garbage collector: one place that frees blobs, layer snapshot dirs and layer rows.
// It sweeps from the roots instead of trusting callers' lists of orphans: whatever is on disk
// (or has a layer row) and is named by no root is removed. Roots are the image rows (their
// layers and blobs, build-cache images included), containers' writable layers (container_layers),
// keys held by operations in flight (Storage.hold, Ingest), and extra root providers (leases of
// interrupted pulls, registered with addRoots).
//
// Safety against a pull or build running meanwhile: what the sweep keeps is decided in one
// synchronous step after it lists the dirs, so a key held or committed by then is kept. An
// operation that holds a key while a sweep is already deleting must not trust what it sees on
// disk: ContentStore.has, LayerSnapshots.exists and the rename of a new blob or layer into
// place wait for the running sweep (quiesce) first, so they see the key either gone or kept.
import type { Logger } from 'pino';
import type { ContentStore } from './content-store.js';
import type { ImageStore } from './image-store.js';
import type { LayerSnapshots } from './layer-snapshots.js';
import { faultPoint } from '../../util/fault-point.js';

export interface GcDeps {
  store: ImageStore;
  content: ContentStore;
  layers: LayerSnapshots;
  /** Whether an operation in flight holds the key (a chain ID or blob digest). */
  isHeld(key: string): boolean;
  logger: Logger;
}

/** What one sweep freed (for logs and tests). */
export interface SweepResult {
  chains: string[];
  blobs: string[];
}

export class GarbageCollector {
  private running: Promise<SweepResult> | null = null;
  /** The sweep that starts when the running one ends; every collect() meanwhile shares it. */
  private next: Promise<SweepResult> | null = null;
  private readonly roots: (() => Iterable<string>)[] = [];

  constructor(private readonly d: GcDeps) {}

  /** More keys that must never be collected while the provider names them (e.g. pull leases). */
  addRoots(provider: () => Iterable<string>): void {
    this.roots.push(provider);
  }

  /** Resolves after a sweep that began after this call has finished. */
  collect(): Promise<SweepResult> {
    if (this.running === null) return this.start();
    if (this.next === null) {
      const after = this.running;
      this.next = after.then(
        () => this.startQueued(),
        () => this.startQueued(),
      );
    }
    return this.next;
  }

  /** Resolves when no sweep is deleting (what an operation awaits before it trusts the disk). */
  async quiesce(): Promise<void> {
    while (this.running !== null) {
      try {
        await this.running;
      } catch {
        // the sweep's failure is logged by whoever asked for it
      }
    }
  }

  private startQueued(): Promise<SweepResult> {
    this.next = null;
    return this.start();
  }

  private start(): Promise<SweepResult> {
    const p = this.sweep().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  private async sweep(): Promise<SweepResult> {
    const [blobs, dirs] = await Promise.all([this.d.content.list(), this.d.layers.list()]);
    // From here to the first await: the decision, in one synchronous step.
    const extra = new Set<string>();
    for (const r of this.roots) for (const k of r()) extra.add(k);
    const keep = (key: string) => extra.has(key) || this.d.isHeld(key);
    const { store } = this.d;
    const chains = [...new Set([...dirs, ...store.allLayerChainIds()])].filter((c) => !keep(c) && !store.chainInUse(c));
    const deadBlobs = blobs.filter((b) => !keep(b) && !store.blobInUse(b));
    if (chains.length > 0) store.transaction(() => chains.forEach((c) => store.deleteLayerRow(c)));
    const present = new Set(dirs);
    faultPoint('gc.after-rows');
    for (const c of chains) if (present.has(c)) await this.d.layers.remove(c);
    for (const b of deadBlobs) {
      await this.d.content.delete(b);
      faultPoint('gc.after-blob');
    }
    if (chains.length > 0 || deadBlobs.length > 0) this.d.logger.debug({ chains: chains.length, blobs: deadBlobs.length }, 'garbage collected');
    return { chains: chains.filter((c) => present.has(c)), blobs: deadBlobs };
  }
}
