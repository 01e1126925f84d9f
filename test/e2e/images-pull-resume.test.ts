// Pulls that share and pulls that are cut short (issue 10 item 1), against a real
// docker-registry behind a proxy that counts blob GETs and holds or cuts a blob partway:
// two pulls of one image fetch each blob once and one client leaving does not stop the other;
// a pull interrupted by its client, by the registry or by a SIGKILL of the daemon keeps the
// layers it verified (leased) and the bytes of the one it was fetching, so the next pull asks
// only for the rest (an HTTP Range), and no half image is ever listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { daemonForFile, prepareFixtures, type Daemon } from './harness.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { startRegistryProxy, type RegistryProxy } from '../fixtures/registry-proxy.js';
import { pushRandomImage, type RawImage } from '../fixtures/registry-upload.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const short = (digest: string) => digest.slice(7, 19);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, pred: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The JSON messages of a pull's progress stream, as they come. */
function messages(res: IncomingMessage): { seen: any[]; ended: Promise<void> } {
  const seen: any[] = [];
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) seen.push(JSON.parse(line));
    }
  });
  const ended = new Promise<void>((resolve) => {
    res.once('end', resolve);
    res.once('close', resolve);
    res.once('error', () => resolve());
  });
  return { seen, ended };
}

describe('pull: shared downloads and interrupted pulls', () => {
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

  const pullStream = (d: Daemon, repo: string) => d.stream('POST', `/images/create?fromImage=${encodeURIComponent(`${proxy.host}/${repo}`)}&tag=latest`);
  const partialPath = (d: Daemon, digest: string) => join(d.dataRoot, 'content', 'partial', digest.slice(7));
  const partialSize = async (d: Daemon, digest: string) => (await stat(partialPath(d, digest)).catch(() => undefined))?.size ?? 0;
  const hasBlob = async (d: Daemon, digest: string) => (await stat(join(d.dataRoot, 'content', 'blobs', 'sha256', digest.slice(7))).catch(() => undefined)) !== undefined;
  const listed = async (d: Daemon, repo: string) => (await d.api('GET', `/images/${proxy.host}/${repo}/json`)).status === 200;
  const leases = (d: Daemon): string[] => {
    const db = new Database(join(d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT digest FROM blob_leases').all() as { digest: string }[]).map((r) => r.digest);
    } finally {
      db.close();
    }
  };

  /** After a successful re-pull: nothing leased or partial is left of the image. */
  async function assertSettled(d: Daemon, img: RawImage): Promise<void> {
    const leased = leases(d);
    for (const l of img.layerDigests) assert.ok(!leased.includes(l), `${l} no longer leased`);
    assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'partial')), []);
  }

  test('two pulls at once fetch each blob once, and the first client leaving does not stop the second', async () => {
    const d = daemon();
    const img = await randomImage('shared');
    const big = img.layerDigests[2];
    proxy.hold(big, 256 * KiB);
    const a = await pullStream(d, 'shared');
    const am = messages(a);
    await proxy.reached(big);
    const b = await pullStream(d, 'shared');
    const bm = messages(b);
    await waitUntil('the second pull to reach the big layer', () => bm.seen.some((m) => m.id === short(big) && m.status === 'Pulling fs layer'));
    a.destroy();
    await am.ended;
    // the daemon has seen the first client go before the download goes on
    for (let i = 0; i < 3; i++) await d.api('GET', '/_ping');
    proxy.release(big);
    await bm.ended;
    assert.ok(bm.seen.some((m) => /Downloaded newer image/.test(m.status ?? '')), JSON.stringify(bm.seen.slice(-3)));
    assert.ok(bm.seen.some((m) => m.id === short(big) && m.status === 'Downloading'), 'the second pull saw the shared download progress');
    for (const digest of [img.configDigest, ...img.layerDigests.slice(1)]) assert.equal(proxy.blobGets(digest).length, 1, `${digest} fetched once`);
    assert.ok(await listed(d, 'shared'));
    await assertSettled(d, img);
  });

  test('a pull whose client leaves keeps the verified layers and the partial one; the next pull asks for the rest', async () => {
    const d = daemon();
    const img = await randomImage('client-gone');
    const [, small, big] = img.layerDigests;
    proxy.hold(big, MiB);
    const a = await pullStream(d, 'client-gone');
    const am = messages(a);
    await proxy.reached(big);
    await waitUntil('the small layer to be verified', () => am.seen.some((m) => m.id === short(small) && m.status === 'Download complete'));
    await waitUntil('the first MiB of the big layer on disk', async () => (await partialSize(d, big)) === MiB);
    a.destroy();
    await proxy.clientGone(big);
    assert.equal(await listed(d, 'client-gone'), false, 'no half image');
    assert.ok(await hasBlob(d, small), 'the verified layer is kept');
    assert.ok(leases(d).includes(small), 'under a lease');
    assert.equal(await partialSize(d, big), MiB);

    await d.dockerOk(['pull', `${proxy.host}/client-gone`]);
    assert.equal(proxy.blobGets(small).length, 1, 'the kept layer is not fetched again');
    assert.deepEqual(proxy.blobGets(big), [
      { range: undefined, status: 200 },
      { range: `bytes=${MiB}-`, status: 206 },
    ]);
    assert.ok(await listed(d, 'client-gone'));
    await assertSettled(d, img);
  });

  test('a pull the registry drops mid-layer fails, and the next pull resumes from the bytes kept', async () => {
    const d = daemon();
    const img = await randomImage('registry-gone');
    const [, small, big] = img.layerDigests;
    proxy.hold(big, MiB);
    const pulling = d.docker(['pull', `${proxy.host}/registry-gone`]);
    await proxy.reached(big);
    await waitUntil('the first MiB of the big layer on disk', async () => (await partialSize(d, big)) === MiB);
    proxy.drop(big);
    const r = await pulling;
    assert.notEqual(r.code, 0);
    assert.equal(await listed(d, 'registry-gone'), false, 'no half image');
    const kept = await partialSize(d, big);
    assert.equal(kept, MiB);
    assert.match(r.stderr, new RegExp(`failed to download layer ${big}: unexpected EOF`));

    await d.dockerOk(['pull', `${proxy.host}/registry-gone`]);
    assert.equal(proxy.blobGets(small).length, 1);
    assert.deepEqual(proxy.blobGets(big)[1], { range: `bytes=${kept}-`, status: 206 });
    await assertSettled(d, img);
  });

  test('a daemon SIGKILLed mid-pull keeps verified layers and the partial one across its restart', async () => {
    const d = daemon();
    const img = await randomImage('daemon-killed');
    const [, small, big] = img.layerDigests;
    proxy.hold(big, MiB);
    const a = await pullStream(d, 'daemon-killed');
    const am = messages(a);
    await proxy.reached(big);
    await waitUntil('the small layer to be verified', () => am.seen.some((m) => m.id === short(small) && m.status === 'Download complete'));
    await waitUntil('the first MiB of the big layer on disk', async () => (await partialSize(d, big)) === MiB);
    await d.stop('SIGKILL');
    await am.ended;
    await d.start();
    assert.equal(await listed(d, 'daemon-killed'), false, 'no half image');
    assert.ok(await hasBlob(d, small), 'the verified layer survived the restart');
    assert.equal(await partialSize(d, big), MiB);

    await d.dockerOk(['pull', `${proxy.host}/daemon-killed`]);
    assert.equal(proxy.blobGets(small).length, 1);
    assert.deepEqual(proxy.blobGets(big)[1], { range: `bytes=${MiB}-`, status: 206 });
    assert.equal(await d.dockerOk(['run', '--rm', `${proxy.host}/daemon-killed`, 'sh', '-c', 'wc -c < /big.bin']), String(3 * MiB));
    await assertSettled(d, img);
  });
});
