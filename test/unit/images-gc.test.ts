// The images' garbage collector (src/images/store/gc.ts): a sweep frees what no root names, keeps
// what an operation holds, and an operation that holds a key and then looks for it on disk
// never sees a file a running sweep is about to delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ImageService } from '../../src/images/image-service.js';
import { tarOf } from '../fixtures/tar-of.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-gc-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function open(): Promise<{ images: ImageService; root: string }> {
  const root = await mkdtemp(join(base, 'root-'));
  const images = new ImageService({ db: new Database(':memory:'), root, logger: pino({ level: 'silent' }) });
  await images.collectGarbage();
  return { images, root };
}

async function importImage(images: ImageService, name: string, body: string) {
  const t = await tarOf([{ header: { name: 'f', mtime: new Date(0) }, body }]);
  return images.import(Readable.from([t]), { repo: name, tag: 'latest', progress: () => undefined });
}

test('a sweep frees unreferenced blobs and layer dirs, keeps held and registered ones', async () => {
  const { images, root } = await open();
  const img = await importImage(images, 'kept', 'x');
  const blobs = join(root, 'content', 'blobs', 'sha256');
  for (const c of ['a', 'b', 'c']) await writeFile(join(blobs, c.repeat(64)), c);
  images.storage.hold(`sha256:${'a'.repeat(64)}`);
  images.storage.gc.addRoots(() => [`sha256:${'b'.repeat(64)}`]);
  const swept = await images.storage.collect();
  assert.deepEqual(swept.blobs, [`sha256:${'c'.repeat(64)}`]);
  assert.ok(existsSync(join(blobs, 'a'.repeat(64))) && existsSync(join(blobs, 'b'.repeat(64))));
  assert.deepEqual(images.layerDirs(img.id).map(existsSync), [true]);
  images.storage.release(`sha256:${'a'.repeat(64)}`);
  assert.deepEqual((await images.storage.collect()).blobs, [`sha256:${'a'.repeat(64)}`]);
});

test('hold then look: what an operation sees on disk stays true while it holds the key', async () => {
  const { images } = await open();
  // the hold lands at every point of the sweep: before its decision, during its deletions, after
  for (let round = 0; round < 30; round++) {
    const img = await importImage(images, `r${round}`, `content ${round}`);
    const [chainDir] = images.layerDirs(img.id);
    const chain = `sha256:${chainDir.split('/').at(-1)}`;
    const blob = images.storage.store.blobsOf(img.id).find((b) => b !== img.id)!;
    images.remove(img.id, { inUse: () => null });
    // the rmi's sweep is running now; an operation holds what it wants, then looks
    for (let tick = 0; tick < round % 10; tick++) await new Promise((r) => setImmediate(r));
    images.storage.hold(blob);
    images.storage.hold(chain);
    const [hasBlob, hasLayer] = await Promise.all([images.storage.content.has(blob), images.storage.layers.exists(chain)]);
    await images.collectGarbage();
    assert.equal(existsSync(images.storage.content.blobPath(blob)), hasBlob, `round ${round}: blob`);
    assert.equal(existsSync(chainDir), hasLayer, `round ${round}: layer`);
    images.storage.release(blob);
    images.storage.release(chain);
  }
  await images.collectGarbage();
  assert.deepEqual((await images.storage.content.list()).length, 0);
});
