// The images layer's front: what the engine calls for pull, list, inspect, tag, rmi, load and
// import. Lookups and rmi follow moby's daemon/images (image.go GetImage, image_delete.go).
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors.js';
import { ImageStore } from './store/image-store.js';
import { ImageHolds } from './image-holds.js';
import { Storage } from './store/storage.js';
import { pullImage } from './distribution/pull.js';
import { RegistryConfig } from './distribution/registry-config.js';
import { login, type LoginResult } from './distribution/login.js';
import { pushImage, type PushedTag } from './distribution/push.js';
import { BlobSources } from './distribution/blob-sources.js';
import { loadArchive } from './archive/archive-load.js';
import { importRootfs } from './archive/import-rootfs.js';
import { digestHex } from './store/content-store.js';
import {
  familiar,
  familiarName,
  familiarString,
  isValidTag,
  normalize,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  withDefaultTag,
  type ImageReference,
} from './reference.js';
import type { ImageDeleteItem, ImageEvent, ImageRecord, ImageServiceApi, ProgressFn, RegistryAuth } from './types.js';
import { commitImage, type CommitOptions } from './commit-image.js';
import { saveArchive } from './archive/save-archive.js';
import { resolveSaveNames } from './archive/save-names.js';
import { faultPoint } from '../util/fault-point.js';

export interface ImageServiceOptions {
  db: Database;
  /** The data-root, e.g. /var/lib/berth. */
  root: string;
  logger: Logger;
  /** insecure-registries and registry-mirrors; default: loopback insecure, no mirrors. */
  registry?: RegistryConfig;
}

type InUse = (imageId: string) => { running: boolean; containerId: string } | null;

const shortId = (id: string) => digestHex(id).slice(0, 12);

export class ImageService implements ImageServiceApi {
  readonly storage: Storage;
  private readonly store: ImageStore;
  private readonly listeners: ((e: ImageEvent) => void)[] = [];
  private readonly logger: Logger;
  readonly registry: RegistryConfig;
  private readonly blobSources: BlobSources;
  /** Images builds stand on: not removable while held (image-holds.ts). */
  readonly holds = new ImageHolds();

  constructor(opts: ImageServiceOptions) {
    this.logger = opts.logger;
    this.registry = opts.registry ?? new RegistryConfig();
    this.store = new ImageStore(opts.db);
    this.blobSources = new BlobSources(opts.db);
    this.storage = new Storage(this.store, opts.root, opts.logger, opts.db);
    this.storage.initSync();
  }

  onEvent(listener: (e: ImageEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(action: ImageEvent['action'], id: string, name: string): void {
    for (const l of this.listeners) {
      try {
        l({ action, id, name });
      } catch (err) {
        this.logger.error({ err }, 'image event listener failed');
      }
    }
  }

  /** `registry` replaces the daemon's registry settings for this pull (the CRI's per-host mirrors). */
  async pull(ref: string, opts: { auth?: RegistryAuth; platform?: string; progress: ProgressFn; signal?: AbortSignal; registry?: RegistryConfig }): Promise<ImageRecord> {
    const parsed = normalize(ref);
    const outcome = await pullImage(this.storage, { ref: parsed, ...opts, registry: opts.registry ?? this.registry });
    this.emit('pull', familiarString(parsed), familiarName(parsed));
    return this.store.get(outcome.imageId)!;
  }

  /** docker login: the credentials checked against the registry (never stored by the daemon). */
  login(auth: RegistryAuth, signal?: AbortSignal): Promise<LoginResult> {
    return login(this.registry, auth, signal);
  }

  /**
   * docker push: `name` with `tag` (or the tag in `name`), else every tag of the repository.
   * Bad names are an InvalidParameterError before anything is sent.
   */
  async push(name: string, opts: { tag?: string; auth?: RegistryAuth; progress: ProgressFn; signal?: AbortSignal }): Promise<PushedTag[]> {
    let ref = parseNormalizedNamed(name);
    if (opts.tag) {
      if (!isValidTag(opts.tag)) throw new InvalidParameterError(`invalid tag format`);
      ref = { ...ref, tag: opts.tag, digest: undefined };
    }
    const pushed = await pushImage(this.storage, this.blobSources, { ref, auth: opts.auth, progress: opts.progress, signal: opts.signal, registry: this.registry });
    this.emit('push', familiarString(ref), familiarName(ref));
    return pushed;
  }

  list(): ImageRecord[] {
    return this.store.list();
  }

  /** Images made from `imageId` by a build step or commit (moby's imageStore.Children). */
  childrenOf(imageId: string): string[] {
    return this.store.childrenOf(imageId);
  }

  /** The image's layer chain IDs, base first (shared-size counts layers images have in common). */
  chainIdsOf(imageId: string): string[] {
    return this.store.chainIdsOf(imageId);
  }

  /** Every unpacked layer's size once (moby's LayersSize: the layer store's total). */
  layersSize(): number {
    let n = 0;
    for (const c of this.store.allLayerChainIds()) n += this.store.layer(c)?.size ?? 0;
    return n;
  }

  /** The unpacked size of one layer (its own diff, not the chain below it); 0 when unknown. */
  layerSize(chainId: string): number {
    return this.store.layer(chainId)?.size ?? 0;
  }

  /** The image ID `nameOrId` resolves to, or undefined. Throws on malformed references. */
  private resolve(nameOrId: string): { id: string; ref?: ImageReference } | undefined {
    if (/^sha256:[a-f0-9]{64}$/.test(nameOrId)) {
      return this.store.get(nameOrId) ? { id: nameOrId } : undefined;
    }
    let ref: ImageReference | undefined;
    if (!/^[a-f0-9]{64}$/.test(nameOrId)) {
      ref = withDefaultTag(parseNormalizedNamed(nameOrId));
      const id = this.store.resolveRef(referenceString(ref));
      if (id !== undefined) return { id, ref };
    }
    const hex = nameOrId.startsWith('sha256:') ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]+$/.test(hex)) {
      const ids = this.store.idsWithPrefix(hex);
      if (ids.length === 1) return { id: ids[0] };
    }
    return undefined;
  }

  private notFound(nameOrId: string): NotFoundError {
    let shown = nameOrId;
    try {
      if (!nameOrId.startsWith('sha256:') && !/^[a-f0-9]{64}$/.test(nameOrId)) shown = familiarString(withDefaultTag(parseNormalizedNamed(nameOrId)));
    } catch {
      // keep the string as given
    }
    return new NotFoundError(`No such image: ${shown}`);
  }

  /** The image with this exact ID, or undefined. */
  find(imageId: string): ImageRecord | undefined {
    return this.store.get(imageId);
  }

  get(nameOrId: string): ImageRecord {
    const r = this.resolve(nameOrId);
    if (r === undefined) throw this.notFound(nameOrId);
    return this.store.get(r.id)!;
  }

  tag(nameOrId: string, repo: string, tag?: string): void {
    const img = this.get(nameOrId);
    const parsed = parseNormalizedNamed(repo);
    if (parsed.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
    let target: ImageReference = parsed;
    if (tag !== undefined && tag !== '') {
      if (!isValidTag(tag)) throw new InvalidParameterError(`invalid tag format`);
      target = { ...parsed, tag };
    }
    target = withDefaultTag(target);
    const full = referenceString(target);
    this.store.transaction(() => this.store.setRef(full, img.id, 'tag'));
    this.emit('tag', img.id, familiarString(target));
  }

  remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean; inUse: InUse }): ImageDeleteItem[] {
    const resolved = this.resolve(nameOrId);
    if (resolved === undefined) throw this.notFound(nameOrId);
    const imgId = resolved.id;
    const force = opts.force === true;
    const records: ImageDeleteItem[] = [];
    const isIdPrefix = imgId.startsWith(nameOrId) || digestHex(imgId).startsWith(nameOrId);
    let quiet = false;

    if (!isIdPrefix && resolved.ref !== undefined) {
      const ref = resolved.ref;
      if (!force && isSingleReference(this.store.refsOf(imgId))) {
        if (this.holds.has(imgId)) {
          throw new ConflictError(`conflict: unable to remove repository reference "${nameOrId}" (must force) - image ${shortId(imgId)} is being used by a build`);
        }
        const c = opts.inUse(imgId);
        if (c !== null) {
          throw new ConflictError(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${c.containerId.slice(0, 12)} is using its referenced image ${shortId(imgId)}`);
        }
      }
      const refStr = referenceString(ref);
      this.store.transaction(() => this.store.deleteRef(refStr));
      records.push({ Untagged: familiarString(ref) });
      this.emit('untag', imgId, imgId);
      let remaining = this.store.refsOf(imgId);
      if (ref.digest === undefined) {
        // The last tag of a repository takes that repository's digest references with it.
        const name = referenceName(ref);
        const sameRepoTag = remaining.some((r) => r.kind === 'tag' && referenceName(parseNormalizedNamed(r.ref)) === name);
        if (!sameRepoTag) {
          for (const r of remaining) {
            if (r.kind === 'digest' && referenceName(parseNormalizedNamed(r.ref)) === name) {
              this.store.transaction(() => this.store.deleteRef(r.ref));
              records.push({ Untagged: familiar(r.ref) });
            }
          }
          remaining = this.store.refsOf(imgId);
        }
      }
      if (remaining.length > 0) return records;
      quiet = true;
    } else {
      const refs = this.store.refsOf(imgId);
      if (isSingleReference(refs)) {
        const conflict = this.deleteConflict(imgId, { force, references: false, inUse: opts.inUse });
        if (conflict !== undefined) throw deleteConflictError(imgId, conflict);
        for (const r of refs) {
          this.store.transaction(() => this.store.deleteRef(r.ref));
          records.push({ Untagged: familiar(r.ref) });
          this.emit('untag', imgId, imgId);
        }
      }
    }

    this.deleteHelper(imgId, records, { force, prune: opts.noprune !== true, quiet, inUse: opts.inUse });
    // Files go after the rows: a crash in between leaves unreferenced dirs the start-up sweep removes.
    void this.collectGarbage().catch((err) => this.logger.error({ err, imgId }, 'removing image files failed'));
    return records;
  }

  /**
   * moby's checkImageDeleteConflict: hard conflicts (child images, a running container) always
   * stop a delete; soft ones (references, a stopped container) unless forced.
   */
  private deleteConflict(imgId: string, o: { force: boolean; references: boolean; inUse: InUse }): DeleteConflict | undefined {
    if (this.store.childrenOf(imgId).length > 0) return { hard: true, used: false, message: 'image has dependent child images' };
    if (this.holds.has(imgId)) return { hard: true, used: true, message: 'image is being used by a build' };
    const c = o.inUse(imgId);
    if (c?.running) return { hard: true, used: true, message: `image is being used by running container ${c.containerId.slice(0, 12)}` };
    if (o.force) return undefined;
    if (o.references && this.store.refsOf(imgId).length > 0) return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
    if (c !== null) return { hard: false, used: true, message: `image is being used by stopped container ${c.containerId.slice(0, 12)}` };
    return undefined;
  }

  /**
   * moby's imageDeleteHelper: delete the image's rows and references, then (prune) its parent
   * when nothing else needs it: untagged, no other child, no container; quietly, so a parent
   * that must stay simply stays.
   */
  private deleteHelper(imgId: string, records: ImageDeleteItem[], o: { force: boolean; prune: boolean; quiet: boolean; inUse: InUse }): void {
    const conflict = this.deleteConflict(imgId, { force: o.force, references: true, inUse: o.inUse });
    if (conflict !== undefined) {
      // A conflict on an image left dangling (or one a container uses) is ignored when quiet.
      const dangling = this.store.refsOf(imgId).length === 0 && this.store.childrenOf(imgId).length === 0;
      if (o.quiet && (!dangling || conflict.used)) return;
      throw deleteConflictError(imgId, conflict);
    }
    const parent = this.store.get(imgId)?.parent;
    for (const r of this.store.refsOf(imgId)) {
      records.push({ Untagged: familiar(r.ref) });
      this.emit('untag', imgId, imgId);
    }
    const { orphanChains } = this.store.transaction(() => this.store.deleteImage(imgId));
    faultPoint('rmi.after-row');
    this.emit('delete', imgId, imgId);
    records.push({ Deleted: imgId });
    for (const chain of orphanChains) records.push({ Deleted: chain });
    if (!o.prune || parent === undefined || this.store.get(parent) === undefined) return;
    this.deleteHelper(parent, records, { force: false, prune: true, quiet: true, inUse: o.inUse });
  }

  async load(tar: Readable, opts: { progress: ProgressFn; quiet?: boolean; signal?: AbortSignal }): Promise<ImageRecord[]> {
    const loaded = await loadArchive(
      this.storage,
      tar,
      (img) => {
        this.emit('load', img.id, img.id);
        if (img.tags.length === 0) opts.progress({ stream: `Loaded image ID: ${img.id}\n` });
        for (const t of img.tags) opts.progress({ stream: `Loaded image: ${familiar(t)}\n` });
      },
      opts.signal,
    );
    return loaded.map((l) => this.store.get(l.id)!);
  }

  async save(names: string[]): Promise<Readable> {
    // every name resolves (or 404s) before a byte is written
    const targets = resolveSaveNames(this.store, names);
    const out = await saveArchive(this.storage, targets, this.blobSources);
    for (const id of new Set(targets.map((t) => t.image.id))) this.emit('save', id, id);
    return out;
  }

  async import(tar: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string; progress: ProgressFn }): Promise<ImageRecord> {
    const ref = tagReference(opts.repo, opts.tag);
    const { id } = await importRootfs(this.storage, tar, { ref, message: opts.message, changes: opts.changes, platform: opts.platform });
    this.emit('import', id, id);
    opts.progress({ status: id });
    return this.store.get(id)!;
  }

  async commit(parent: string, layer: Readable, opts: { repo?: string; tag?: string } & Omit<CommitOptions, 'ref'>): Promise<ImageRecord> {
    const ref = tagReference(opts.repo, opts.tag);
    const { id } = await commitImage(this.storage, this.get(parent), layer, { ...opts, ref });
    if (ref) this.emit('tag', id, familiar(ref));
    return this.store.get(id)!;
  }

  /** chainID -> unpacked size of each of the image's layers (prune's SpaceReclaimed). */
  layerSizes(imageId: string): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const c of this.store.chainIdsOf(imageId)) sizes.set(c, this.store.layer(c)?.size ?? 0);
    return sizes;
  }

  /**
   * Lower dirs of the image, topmost first. An image removed with --force while containers use
   * it keeps its layers for them: its chain is then the one they hold (an image ID fixes it).
   */
  layerDirs(imageId: string): string[] {
    let chains = this.store.chainIdsOf(imageId);
    if (chains.length === 0) chains = this.store.chainIdsHeldForImage(imageId);
    if (chains.length === 0 && this.store.get(imageId) === undefined) throw new NotFoundError(`No such image: ${imageId}`);
    return chains.map((c) => this.storage.layers.path(c)).reverse();
  }

  /** The container's writable layer stands on the image's layers until releaseLayers (moby's RWLayer). */
  retainLayers(containerId: string, imageId: string): void {
    const held = this.store.transaction(() => this.store.retainForContainer(containerId, imageId));
    if (!held && this.store.get(imageId) === undefined) throw new NotFoundError(`No such image: ${imageId}`);
  }

  /** The container is gone: its image's layers go too unless an image or another container uses them. */
  async releaseLayers(containerId: string): Promise<void> {
    const chains = this.store.transaction(() => this.store.releaseContainer(containerId));
    if (chains.length > 0) await this.collectGarbage();
  }

  /**
   * Free what no image, container or operation uses (gc.ts); resolves once a sweep that began
   * after the call is done, so an API answer given after it finds the files gone.
   */
  async collectGarbage(): Promise<void> {
    await this.storage.collect();
  }

  /**
   * Free what unfinished pulls kept for the next one (leased verified blobs, partial
   * downloads no pull is writing): `docker image prune`'s share of them. Returns the bytes freed.
   */
  async dropPullLeases(): Promise<number> {
    return (await this.storage.dropLeases()).reduce((a, f) => a + f.size, 0);
  }

  /**
   * Startup, with every container the engine knows: holds for containers made before holds were
   * recorded, and none for containers that are gone (a crash between the steps of a removal).
   */
  async reconcileContainerLayers(containers: { id: string; imageId: string }[]): Promise<void> {
    const known = new Set(containers.map((c) => c.id));
    // one query for those already holding (all but records older than holds), and one
    // transaction for the rest: a statement or two per container made start-up with thousands slow
    const holding = this.store.containersHoldingLayers();
    const held = new Set(holding);
    this.store.transaction(() => {
      for (const c of containers) {
        if (held.has(c.id)) continue;
        try {
          this.retainLayers(c.id, c.imageId);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          this.logger.warn({ container: c.id, image: c.imageId }, "container's image and its layers are gone: it cannot start again");
        }
      }
    });
    for (const id of holding) {
      if (!known.has(id)) await this.releaseLayers(id);
    }
  }
}

/** `repo` + `tag` as a normalised tag reference (latest by default); undefined without a repo. */
function tagReference(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) return undefined;
  let parsed = parseNormalizedNamed(repo);
  if (tag) {
    if (!isValidTag(tag)) throw new InvalidParameterError('invalid tag format');
    parsed = { ...parsed, tag };
  }
  return referenceString(withDefaultTag(parsed));
}

interface DeleteConflict {
  /** Not even --force deletes it (children, a running container). */
  hard: boolean;
  /** A container uses the image. */
  used: boolean;
  message: string;
}

function deleteConflictError(imgId: string, c: DeleteConflict): ConflictError {
  return new ConflictError(`conflict: unable to delete ${shortId(imgId)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`);
}

/** moby's isSingleReference: at most one tag, and digest references only of that tag's repository. */
function isSingleReference(refs: { ref: string; kind: 'tag' | 'digest' }[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: string | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    const name = referenceName(parseNormalizedNamed(r.ref));
    if (r.kind === 'digest') canonical.add(name);
    else if (single === undefined) single = name;
    else return false;
  }
  single ??= referenceName(parseNormalizedNamed(refs[0].ref));
  return canonical.size === 1 && canonical.has(single);
}
