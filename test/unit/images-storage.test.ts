// The images layer's stores across a damaged data-root and across containers: start-up must
// survive non-directories where the snapshot dirs belong (review §1: a bad whiteout left a
// 0/0 char device where every layer lived), and a container's writable layer keeps its image's
// layers after rmi -f until the container goes (review §9).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { tarOf } from '../fixtures/tar-of.js';
import { LayerSnapshots } from '../../src/images/store/layer-snapshots.js';
import { ImageService } from '../../src/images/image-service.js';
import { Snapshotter } from '../../src/images/layers/snapshotter.js';
import { NotFoundError } from '../../src/errors.js';

let base: string;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-storage-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

function mknodWhiteout(path: string): void {
  execFileSync('mknod', ['-m', '0000', path, 'c', '0', '0']);
}

/** A pino logger whose warnings are kept for the test to read. */
function capturingLogger(): { logger: pino.Logger; lines: () => any[] } {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines: () => lines };
}

function rootfsTar(files: Record<string, string>): Promise<Buffer> {
  return tarOf(Object.entries(files).map(([name, body]) => ({ header: { name, mtime: new Date(0) }, body })));
}

async function openImages(root: string, db: Database.Database, logger = pino({ level: 'silent' })): Promise<ImageService> {
  return new ImageService({ db, root, logger });
}

async function importImage(images: ImageService, files: Record<string, string>, repo: string) {
  return images.import(Readable.from([await rootfsTar(files)]), { repo, tag: 'latest', progress: () => undefined });
}

/** rmi answers before its files go; what it deleted is in its answer. */
function deletedChains(out: ReturnType<ImageService['remove']>, layer: string): boolean {
  return out.some((r) => 'Deleted' in r && r.Deleted === `sha256:${basename(layer)}`);
}

test('LayerSnapshots start-up survives a char device where the layers dir belongs (the §1 PoC state)', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  await mkdir(join(root, 'snapshots'));
  mknodWhiteout(join(root, 'snapshots', 'layers'));
  const snaps = new LayerSnapshots(root);
  const seen: { path: string; found: string }[] = [];
  assert.deepEqual(snaps.initSync((f) => seen.push(f)), []);
  assert.ok((await lstat(snaps.dir)).isDirectory());
  assert.deepEqual(seen, [{ path: snaps.dir, found: 'character device' }]);
});

test('LayerSnapshots start-up drops layer entries and dirs that are not real directories', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  const hostDir = await mkdtemp(join(base, 'host-'));
  await writeFile(join(hostDir, 'keep'), 'k');
  await writeFile(join(root, 'snapshots'), 'not a dir');
  const snaps = new LayerSnapshots(root);
  const seen: string[] = [];
  assert.deepEqual(snaps.initSync((f) => seen.push(`${basename(f.path)}: ${f.found}`)), []);
  assert.deepEqual(seen, ['snapshots: file']);
  const good = 'a'.repeat(64);
  await mkdir(join(snaps.dir, good));
  await writeFile(join(snaps.dir, 'b'.repeat(64)), 'x');
  await symlink(hostDir, join(snaps.dir, 'c'.repeat(64)));
  mknodWhiteout(join(snaps.dir, 'd'.repeat(64)));
  assert.deepEqual(snaps.initSync(), [`sha256:${good}`]);
  assert.deepEqual(await readdir(snaps.dir), [good]);
  assert.equal(await readFile(join(hostDir, 'keep'), 'utf8'), 'k', 'a symlinked entry is unlinked, never followed');
  const linked = await mkdtemp(join(base, 'root-'));
  await mkdir(join(linked, 'snapshots'));
  await symlink(hostDir, join(linked, 'snapshots', 'layers'));
  const viaLink = new LayerSnapshots(linked);
  viaLink.initSync();
  assert.ok((await lstat(viaLink.dir)).isDirectory(), 'a symlinked layers dir is replaced by a real one');
  assert.deepEqual(await readdir(hostDir), ['keep']);
});

test('the snapshotter survives damaged containers snapshot dirs', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  const hostDir = await mkdtemp(join(base, 'host-'));
  await mkdir(join(root, 'snapshots'));
  mknodWhiteout(join(root, 'snapshots', 'containers'));
  const { logger, lines } = capturingLogger();
  const images = { layerDirs: () => [], retainLayers: () => undefined, releaseLayers: async () => undefined };
  let snap = new Snapshotter({ root, images, logger });
  assert.deepEqual(await snap.list(), []);
  assert.equal(lines().filter((l) => l.level === 40).length, 1);
  await symlink(hostDir, join(root, 'snapshots', 'containers', 'x'.repeat(64)));
  await writeFile(join(root, 'snapshots', 'containers', 'y'.repeat(64)), '');
  snap = new Snapshotter({ root, images, logger });
  assert.deepEqual(await readdir(join(root, 'snapshots', 'containers')), []);
  assert.ok(existsSync(hostDir));
});

test('an image whose layers were lost is reported at start-up, refused at mount and restored by a new unpack', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  const db = new Database(':memory:');
  let images = await openImages(root, db);
  const img = await importImage(images, { 'bin/sh': 'sh' }, 'lost');
  const [layer] = images.layerDirs(img.id);
  // The state §1's PoC left: every layer gone, a 0/0 char device in their place.
  await rm(join(root, 'snapshots', 'layers'), { recursive: true });
  mknodWhiteout(join(root, 'snapshots', 'layers'));
  const { logger, lines } = capturingLogger();
  images = await openImages(root, db, logger);
  const warned = lines().filter((l) => l.level === 40).map((l) => l.msg);
  assert.ok(warned.some((m) => /non-directory/.test(m)), 'the repair is logged');
  assert.ok(warned.some((m) => /image layers are missing.*pull or load the image again, or remove it/.test(m)), 'the image is reported');
  const snap = new Snapshotter({ root, images });
  const cid = 'e'.repeat(64);
  await snap.prepare(cid, img.id);
  await assert.rejects(snap.mount(cid, img.id), (err: Error) => {
    assert.match(err.message, /missing from the layer store: pull or load the image again, or remove it/);
    assert.ok(!err.message.includes(root), 'no host path in the message');
    return true;
  });
  await snap.remove(cid);
  await importImage(images, { 'bin/sh': 'sh' }, 'again');
  assert.ok((await lstat(layer)).isDirectory(), 'the same chain unpacked again serves the old image');
  db.close();
});

test('rmi -f leaves the layers to a container that uses the image until the container goes (§9)', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  const db = new Database(':memory:');
  let images = await openImages(root, db);
  const img = await importImage(images, { 'bin/sh': 'sh' }, 'used');
  const [layer] = images.layerDirs(img.id);
  let snap = new Snapshotter({ root, images });
  const cid = 'f'.repeat(64);
  await snap.prepare(cid, img.id);
  const out = images.remove('used', { force: true, inUse: () => ({ running: false, containerId: cid }) });
  assert.ok(out.some((r) => 'Deleted' in r && r.Deleted === img.id), 'the image itself is deleted');
  assert.throws(() => images.get(img.id), NotFoundError);
  assert.ok(!deletedChains(out, layer), 'the layer is not collected');
  assert.ok((await lstat(layer)).isDirectory(), 'the layer dir stays');
  assert.deepEqual(images.layerDirs(img.id), [layer], 'the container still finds its lower dirs');
  // Start-up scan with the hold recorded: the dir is not an orphan.
  images = await openImages(root, db);
  await images.reconcileContainerLayers([{ id: cid, imageId: img.id }]);
  snap = new Snapshotter({ root, images });
  assert.ok((await lstat(layer)).isDirectory());
  await snap.remove(cid);
  assert.ok(!existsSync(layer), 'removing the container collects the layer');
  assert.throws(() => images.layerDirs(img.id), NotFoundError);
  db.close();
});

test('start-up reconciliation records holds for containers made before holds existed and drops holds of gone ones', async () => {
  const root = await mkdtemp(join(base, 'root-'));
  const db = new Database(':memory:');
  const images = await openImages(root, db);
  const img = await importImage(images, { 'bin/sh': 'sh' }, 'old');
  const [layer] = images.layerDirs(img.id);
  const old = '1'.repeat(64);
  const gone = '2'.repeat(64);
  images.retainLayers(gone, img.id);
  await images.reconcileContainerLayers([{ id: old, imageId: img.id }]);
  const out = images.remove('old', { force: true, inUse: () => ({ running: false, containerId: old }) });
  assert.ok(!deletedChains(out, layer), "the old container's hold keeps the layer");
  await images.reconcileContainerLayers([]);
  assert.ok(!existsSync(layer), 'with no container left the layer goes');
  assert.throws(() => images.retainLayers('3'.repeat(64), img.id), NotFoundError);
  db.close();
});
