// The images layer's SQLite tables: images (config and what they are made of), references
// (normalised name -> image ID), unpacked layers (chainID -> size) and the layer chains
// containers' writable layers stand on. Statements are prepared once; callers group writes
// with transaction().
import type { Database, Statement } from 'better-sqlite3';
import { applyMigrations } from '../../util/sqlite.js';
import type { ImageConfigFile, ImageRecord } from '../types.js';

const MIGRATIONS = [
  `CREATE TABLE images (
     id TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     manifest_digest TEXT,
     size INTEGER NOT NULL,
     stored_at TEXT NOT NULL
   );
   CREATE TABLE image_refs (
     ref TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES images(id),
     kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest'))
   );
   CREATE INDEX image_refs_image ON image_refs(image_id);
   CREATE TABLE image_layers (
     image_id TEXT NOT NULL REFERENCES images(id),
     idx INTEGER NOT NULL,
     chain_id TEXT NOT NULL,
     PRIMARY KEY (image_id, idx)
   );
   CREATE INDEX image_layers_chain ON image_layers(chain_id);
   CREATE TABLE image_blobs (
     image_id TEXT NOT NULL REFERENCES images(id),
     digest TEXT NOT NULL,
     PRIMARY KEY (image_id, digest)
   );
   CREATE INDEX image_blobs_digest ON image_blobs(digest);
   CREATE TABLE layers (
     chain_id TEXT PRIMARY KEY,
     diff_id TEXT NOT NULL,
     size INTEGER NOT NULL
   );`,
  // A container's writable layer holds its image's chain, as moby's RWLayer holds its parent:
  // rmi -f of the image leaves the layers to the container until it is removed.
  `CREATE TABLE container_layers (
     container_id TEXT NOT NULL,
     image_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     chain_id TEXT NOT NULL,
     PRIMARY KEY (container_id, idx)
   );
   CREATE INDEX container_layers_chain ON container_layers(chain_id);
   CREATE INDEX container_layers_image ON container_layers(image_id);`,
  // The classic builder's chain of images (each step's image names the one before, as moby's
  // image.Parent), which rmi prunes with the image and the layer cache looks children up in.
  `ALTER TABLE images ADD COLUMN parent TEXT;
   CREATE INDEX images_parent ON images(parent);`,
];

export interface NewImage {
  id: string;
  config: ImageConfigFile;
  manifestDigest: string | null;
  /** Layer chain IDs, base first. */
  chainIds: string[];
  /** Every content-store blob this image keeps alive (config, manifest, layer blobs). */
  blobs: string[];
  size: number;
  /** The image this one was made from by a build step or commit (moby's Parent). */
  parent?: string;
}

export interface LayerRow {
  chainId: string;
  diffId: string;
  size: number;
}

interface ImageRow {
  id: string;
  parent: string | null;
  config: string;
  manifest_digest: string | null;
  size: number;
  stored_at: string;
}

export class ImageStore {
  private readonly st: Record<string, Statement>;
  private readonly configCache = new Map<string, ImageConfigFile>();

  constructor(private readonly db: Database) {
    applyMigrations(db, 'images', MIGRATIONS);
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      imageById: p('SELECT * FROM images WHERE id = ?'),
      imagesByPrefix: p("SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2"),
      allImages: p('SELECT * FROM images ORDER BY stored_at, rowid'),
      refsOf: p('SELECT ref, kind FROM image_refs WHERE image_id = ? ORDER BY rowid'),
      allRefs: p('SELECT ref, image_id, kind FROM image_refs ORDER BY rowid'),
      refTarget: p('SELECT image_id FROM image_refs WHERE ref = ?'),
      insertImage: p('INSERT OR IGNORE INTO images (id, config, manifest_digest, size, stored_at, parent) VALUES (?, ?, ?, ?, ?, ?)'),
      childrenOf: p('SELECT id FROM images WHERE parent = ? ORDER BY rowid'),
      insertLayerOfImage: p('INSERT OR IGNORE INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)'),
      insertBlobOfImage: p('INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)'),
      upsertRef: p('INSERT INTO image_refs (ref, image_id, kind) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id, kind = excluded.kind'),
      deleteRef: p('DELETE FROM image_refs WHERE ref = ?'),
      layersOf: p('SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx'),
      blobsOf: p('SELECT digest FROM image_blobs WHERE image_id = ?'),
      deleteImageLayers: p('DELETE FROM image_layers WHERE image_id = ?'),
      deleteImageBlobs: p('DELETE FROM image_blobs WHERE image_id = ?'),
      deleteImageRefs: p('DELETE FROM image_refs WHERE image_id = ?'),
      deleteImage: p('DELETE FROM images WHERE id = ?'),
      chainUsers: p(
        'SELECT (SELECT COUNT(*) FROM image_layers WHERE chain_id = @c) + (SELECT COUNT(*) FROM container_layers WHERE chain_id = @c) AS n',
      ),
      retainForContainer: p(
        'INSERT OR IGNORE INTO container_layers (container_id, image_id, idx, chain_id) SELECT ?, image_id, idx, chain_id FROM image_layers WHERE image_id = ?',
      ),
      containerHolds: p('SELECT COUNT(*) AS n FROM container_layers WHERE container_id = ?'),
      containerChains: p('SELECT chain_id FROM container_layers WHERE container_id = ? ORDER BY idx'),
      releaseContainer: p('DELETE FROM container_layers WHERE container_id = ?'),
      containersHolding: p('SELECT DISTINCT container_id FROM container_layers'),
      chainsHeldForImage: p(
        'SELECT chain_id FROM container_layers WHERE container_id = (SELECT container_id FROM container_layers WHERE image_id = ? LIMIT 1) ORDER BY idx',
      ),
      blobUsers: p('SELECT COUNT(*) AS n FROM image_blobs WHERE digest = ?'),
      layer: p('SELECT chain_id AS chainId, diff_id AS diffId, size FROM layers WHERE chain_id = ?'),
      allLayers: p('SELECT chain_id AS chainId FROM layers'),
      putLayer: p('INSERT OR IGNORE INTO layers (chain_id, diff_id, size) VALUES (?, ?, ?)'),
      deleteLayer: p('DELETE FROM layers WHERE chain_id = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private toRecord(row: ImageRow, refs?: { ref: string; kind: string }[]): ImageRecord {
    let config = this.configCache.get(row.id);
    if (config === undefined) {
      config = JSON.parse(row.config) as ImageConfigFile;
      this.configCache.set(row.id, config);
    }
    const r = refs ?? (this.st.refsOf.all(row.id) as { ref: string; kind: string }[]);
    return {
      id: row.id,
      repoTags: r.filter((x) => x.kind === 'tag').map((x) => x.ref),
      repoDigests: r.filter((x) => x.kind === 'digest').map((x) => x.ref),
      config,
      size: row.size,
      storedAt: row.stored_at,
      ...(row.parent ? { parent: row.parent } : {}),
    };
  }

  get(id: string): ImageRecord | undefined {
    const row = this.st.imageById.get(id) as ImageRow | undefined;
    return row === undefined ? undefined : this.toRecord(row);
  }

  manifestDigest(id: string): string | null {
    const row = this.st.imageById.get(id) as ImageRow | undefined;
    return row?.manifest_digest ?? null;
  }

  /** Image IDs starting with 'sha256:<hexPrefix>' (at most 2: enough to tell ambiguity). */
  idsWithPrefix(hexPrefix: string): string[] {
    const lo = `sha256:${hexPrefix}`;
    const hi = `sha256:${hexPrefix}\uffff`;
    return (this.st.imagesByPrefix.all(lo, hi) as { id: string }[]).map((r) => r.id);
  }

  list(): ImageRecord[] {
    const refs = new Map<string, { ref: string; kind: string }[]>();
    for (const r of this.st.allRefs.all() as { ref: string; image_id: string; kind: string }[]) {
      let l = refs.get(r.image_id);
      if (l === undefined) refs.set(r.image_id, (l = []));
      l.push(r);
    }
    return (this.st.allImages.all() as ImageRow[]).map((row) => this.toRecord(row, refs.get(row.id) ?? []));
  }

  /** Images made from `id` (build steps, commits), oldest first. */
  childrenOf(id: string): string[] {
    return (this.st.childrenOf.all(id) as { id: string }[]).map((r) => r.id);
  }

  resolveRef(ref: string): string | undefined {
    return (this.st.refTarget.get(ref) as { image_id: string } | undefined)?.image_id;
  }

  refsOf(id: string): { ref: string; kind: 'tag' | 'digest' }[] {
    return this.st.refsOf.all(id) as { ref: string; kind: 'tag' | 'digest' }[];
  }

  /** Insert the image if new (layers must already be recorded). */
  addImage(img: NewImage, storedAt = new Date().toISOString()): void {
    this.st.insertImage.run(img.id, JSON.stringify(img.config), img.manifestDigest, img.size, storedAt, img.parent ?? null);
    img.chainIds.forEach((c, i) => this.st.insertLayerOfImage.run(img.id, i, c));
    for (const b of img.blobs) this.st.insertBlobOfImage.run(img.id, b);
  }

  /** Point `ref` at `imageId`; returns the image it pointed at before, if another. */
  setRef(ref: string, imageId: string, kind: 'tag' | 'digest'): string | undefined {
    const before = this.resolveRef(ref);
    this.st.upsertRef.run(ref, imageId, kind);
    return before !== imageId ? before : undefined;
  }

  deleteRef(ref: string): void {
    this.st.deleteRef.run(ref);
  }

  chainIdsOf(id: string): string[] {
    return (this.st.layersOf.all(id) as { chain_id: string }[]).map((r) => r.chain_id);
  }

  blobsOf(id: string): string[] {
    return (this.st.blobsOf.all(id) as { digest: string }[]).map((r) => r.digest);
  }

  /**
   * Delete the image rows; returns the chains and blobs no image or container uses any more
   * (rmi reports the chains; the garbage collector frees them and their layer rows).
   */
  deleteImage(id: string): { orphanChains: string[]; orphanBlobs: string[] } {
    const chains = this.chainIdsOf(id);
    const blobs = this.blobsOf(id);
    this.st.deleteImageLayers.run(id);
    this.st.deleteImageBlobs.run(id);
    this.st.deleteImageRefs.run(id);
    this.st.deleteImage.run(id);
    this.configCache.delete(id);
    const orphanChains = [...new Set(chains)].filter((c) => !this.chainInUse(c));
    const orphanBlobs = blobs.filter((b) => (this.st.blobUsers.get(b) as { n: number }).n === 0);
    return { orphanChains, orphanBlobs };
  }

  layer(chainId: string): LayerRow | undefined {
    return this.st.layer.get(chainId) as LayerRow | undefined;
  }

  putLayer(l: LayerRow): void {
    this.st.putLayer.run(l.chainId, l.diffId, l.size);
  }

  /** Whether an image or a container's writable layer stands on the chain. */
  chainInUse(chainId: string): boolean {
    return (this.st.chainUsers.get({ c: chainId }) as { n: number }).n > 0;
  }

  /**
   * Record that the container's writable layer stands on the image's chain (idempotent).
   * False when the container holds nothing and the image has no layers recorded (it is gone).
   */
  retainForContainer(containerId: string, imageId: string): boolean {
    if ((this.st.containerHolds.get(containerId) as { n: number }).n > 0) return true;
    return this.st.retainForContainer.run(containerId, imageId).changes > 0;
  }

  /** Drop the container's hold; returns the chains it held (candidates for collection). */
  releaseContainer(containerId: string): string[] {
    const chains = (this.st.containerChains.all(containerId) as { chain_id: string }[]).map((r) => r.chain_id);
    this.st.releaseContainer.run(containerId);
    return chains;
  }

  /** Container IDs that hold layers, for the startup reconciliation. */
  containersHoldingLayers(): string[] {
    return (this.st.containersHolding.all() as { container_id: string }[]).map((r) => r.container_id);
  }

  /** The chain of an image removed while containers use it, as one of those containers holds it. */
  chainIdsHeldForImage(imageId: string): string[] {
    return (this.st.chainsHeldForImage.all(imageId) as { chain_id: string }[]).map((r) => r.chain_id);
  }

  blobInUse(digest: string): boolean {
    return (this.st.blobUsers.get(digest) as { n: number }).n > 0;
  }

  deleteLayerRow(chainId: string): void {
    this.st.deleteLayer.run(chainId);
  }

  allLayerChainIds(): string[] {
    return (this.st.allLayers.all() as { chainId: string }[]).map((r) => r.chainId);
  }
}
