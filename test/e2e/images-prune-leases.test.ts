// docker image prune (and docker system prune, which runs it) frees what pulls that did not
// finish kept for the next one: the verified blobs under a lease and the partial download,
// counted in SpaceReclaimed, so the data root is back to its size before the pull.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { daemonForFile, prepareFixtures, type Daemon } from './harness.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { startRegistryProxy, type RegistryProxy } from '../fixtures/registry-proxy.js';
import { pushRandomImage, type RawImage } from '../fixtures/registry-upload.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, pred: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Bytes of every regular file under the data root but the database (which only grows). */
async function contentBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await contentBytes(p);
    else if (e.isFile() && !e.name.startsWith('berth.db')) total += (await lstat(p)).size;
  }
  return total;
}

describe('image prune drops the leases of unfinished pulls', () => {
  const { daemon } = daemonForFile();
  let reg: RunningRegistry;
  let proxy: RegistryProxy;
  let rootfs: Buffer;

  before(async () => {
    reg = await startRegistry();
    proxy = await startRegistryProxy(reg.host);
    rootfs = await readFile((await prepareFixtures()).rootfs);
  });
  after(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  const randomImage = (repo: string): Promise<RawImage> => pushRandomImage(reg.host, repo, rootfs);

  const leases = (d: Daemon): string[] => {
    const db = new Database(join(d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT digest FROM blob_leases').all() as { digest: string }[]).map((r) => r.digest);
    } finally {
      db.close();
    }
  };
  const blobs = async (d: Daemon) => readdir(join(d.dataRoot, 'content', 'blobs', 'sha256'));
  const partialSize = async (d: Daemon, digest: string) => (await stat(join(d.dataRoot, 'content', 'partial', digest.slice(7))).catch(() => undefined))?.size ?? 0;
  const partials = async (d: Daemon) => readdir(join(d.dataRoot, 'content', 'partial'));

  for (const how of ['image prune', 'system prune'] as const) {
    test(`a pull cut mid-layer, then docker ${how}: the leased blobs and the partial one are gone and counted`, async () => {
      const d = daemon();
      const repo = how.replace(' ', '-');
      const img = await randomImage(repo);
      const [, small, big] = img.layerDigests;
      const before = await contentBytes(d.dataRoot);
      proxy.hold(big, MiB);
      const pulling = d.docker(['pull', `${proxy.host}/${repo}`]);
      await proxy.reached(big);
      await waitUntil('the first MiB of the big layer on disk', async () => (await partialSize(d, big)) === MiB);
      // (the first layer is busybox's, which the daemon has already: neither fetched nor leased)
      await waitUntil('the small layer verified and leased', async () => leases(d).includes(small));
      proxy.drop(big);
      const r = await pulling;
      assert.notEqual(r.code, 0, 'the pull failed');
      assert.deepEqual(leases(d), [small], 'the verified layer stays leased');
      assert.deepEqual(await partials(d), [big.slice(7)]);
      const kept = await contentBytes(d.dataRoot);
      assert.ok(kept > before, 'the interrupted pull kept its bytes');

      let reclaimed: number | undefined;
      if (how === 'image prune') {
        const r = await d.api('POST', '/images/prune');
        assert.equal(r.status, 200, r.text);
        reclaimed = (r.json as { SpaceReclaimed: number }).SpaceReclaimed;
      } else {
        // (the CLI prints an image prune's SpaceReclaimed only when it deleted an image)
        await d.dockerOk(['system', 'prune', '-f']);
      }
      assert.deepEqual(leases(d), []);
      assert.deepEqual(await partials(d), []);
      for (const l of [small, big]) assert.ok(!(await blobs(d)).includes(l.slice(7)), `${l} removed`);
      assert.equal(await contentBytes(d.dataRoot), before, 'the data root is back to its size');
      if (reclaimed !== undefined) assert.equal(reclaimed, kept - before, 'SpaceReclaimed counts the leased blob and the partial one');
    });
  }

  test('a prune leaves a pull in flight alone: its partial download goes on and the pull completes', async () => {
    const d = daemon();
    const img = await randomImage('in-flight');
    const big = img.layerDigests[2];
    proxy.hold(big, MiB);
    const pulling = d.docker(['pull', `${proxy.host}/in-flight`]);
    await proxy.reached(big);
    await d.dockerOk(['image', 'prune', '-f']);
    proxy.release(big);
    const r = await pulling;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leases(d), []);
    assert.deepEqual(await partials(d), []);
  });
});
