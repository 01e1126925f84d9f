// A malicious registry against docker pull (review §7 and §16): endless manifests, tokens,
// error bodies and blobs are cut off at their caps, a config the manifest says is huge is
// never fetched, and a failed pull stops its other downloads and leaves nothing behind.
// ImageService over a real SQLite file in a temp data-root; the registry is an HTTP server
// in this process on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ImageService } from '../../src/images/image-service.js';
import { NotFoundError } from '../../src/errors.js';
import type { JsonMessage } from '../../src/images/types.js';
import { configOf, manifestOf, sendJson, sha256, startFakeRegistry, streamUpTo, type FakeRegistry, type Handler } from '../fixtures/hostile-registry.js';

const MiB = 1 << 20;
/** What the fake registry sends at most: far past every cap, small enough for an unfixed run to end. */
const CAP = 64 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 0x20);
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

let work: string;
let root: string;
let db: Database.Database;
let images: ImageService;
const registries: FakeRegistry[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-hostile-registry-'));
  root = join(work, 'root');
  db = new Database(join(work, 'berth.db'));
  db.pragma('journal_mode = WAL');
  images = new ImageService({ db, root, logger: pino({ level: 'silent' }) });
});

after(async () => {
  for (const r of registries) await r.stop();
  db?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function registry(handle: Handler): Promise<FakeRegistry> {
  const r = await startFakeRegistry(async (req, res) => {
    if (req.url === '/v2/') return sendJson(res, {});
    await handle(req, res);
  });
  registries.push(r);
  return r;
}

/** Everything the content store and the layer dirs hold, ingest files included. */
async function stored(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, 'content', 'ingest'))) out.push(`ingest/${name}`);
  for (const name of await readdir(join(root, 'content', 'blobs', 'sha256'))) out.push(`blobs/${name}`);
  for (const name of await readdir(join(root, 'snapshots', 'layers'))) out.push(`layers/${name}`);
  return out;
}

const pull = (ref: string, progress: (m: JsonMessage) => void = () => undefined) => images.pull(ref, { progress });

describe('pull from a hostile registry', () => {
  test('an endless manifest fails at 4 MiB and the connection is dropped', async () => {
    let sent: Promise<number> | undefined;
    const r = await registry((_req, res) => {
      res.writeHead(200, { 'Content-Type': MANIFEST_TYPE });
      sent = streamUpTo(res, CHUNK, CAP);
    });
    await assert.rejects(pull(`${r.host}/endless:latest`), {
      message: `manifest for ${r.host}/endless:latest exceeds the maximum allowed size of ${4 * MiB} bytes`,
    });
    assert.ok((await sent!) < CAP, 'the client stopped reading');
    assert.deepEqual(await stored(), []);
  });

  test('an endless error body is not read past 1 MiB', async () => {
    let sent: Promise<number> | undefined;
    const r = await registry((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      sent = streamUpTo(res, CHUNK, CAP);
    });
    await assert.rejects(pull(`${r.host}/gone:latest`), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `manifest for ${r.host}/gone:latest not found: not found`);
      return true;
    });
    assert.ok((await sent!) < CAP, 'the client stopped reading');
  });

  test('an endless token response fails at 1 MiB', async () => {
    let sent: Promise<number> | undefined;
    const r = await registry((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        sent = streamUpTo(res, CHUNK, CAP);
        return;
      }
      sendJson(res, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, 401, {
        'WWW-Authenticate': `Bearer realm="http://${r.host}/token",service="fake"`,
      });
    });
    await assert.rejects(pull(`${r.host}/locked:latest`), { message: `token response exceeds the maximum allowed size of ${MiB} bytes` });
    assert.ok((await sent!) < CAP, 'the client stopped reading');
  });

  test('a config or layer longer than its descriptor fails while streaming and leaves nothing', async () => {
    const layer = Buffer.alloc(1024, 0x61);
    const config = configOf([sha256(layer)]);
    for (const liar of ['config', 'layer'] as const) {
      let sent: Promise<number> | undefined;
      const manifest = manifestOf({ digest: sha256(config), size: config.length }, [{ digest: sha256(layer), size: layer.length }]);
      const lying = liar === 'config' ? sha256(config) : sha256(layer);
      const r = await registry((req, res) => {
        if (req.url?.includes('/manifests/')) return sendJson(res, manifest, 200, { 'Content-Type': MANIFEST_TYPE });
        if (req.url?.endsWith(lying)) {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          sent = streamUpTo(res, CHUNK, CAP);
          return;
        }
        if (req.url?.endsWith(sha256(config))) return sendJson(res, config);
        sendJson(res, {}, 404);
      });
      const size = liar === 'config' ? config.length : layer.length;
      await assert.rejects(pull(`${r.host}/long-${liar}:latest`), { message: `blob ${lying}: more than the expected ${size} bytes received` });
      assert.ok((await sent!) < CAP, `the client stopped reading the ${liar}`);
      assert.deepEqual(await stored(), [], `nothing left after the long ${liar}`);
    }
  });

  test('a config the manifest says is over 4 MiB is refused before it is fetched', async () => {
    const layer = Buffer.alloc(1024, 0x61);
    const configDigest = sha256('not fetched');
    const manifest = manifestOf({ digest: configDigest, size: 5 * MiB }, [{ digest: sha256(layer), size: layer.length }]);
    const r = await registry((req, res) => {
      if (req.url?.includes('/manifests/')) return sendJson(res, manifest, 200, { 'Content-Type': MANIFEST_TYPE });
      res.writeHead(200);
      void streamUpTo(res, CHUNK, 5 * MiB);
    });
    await assert.rejects(pull(`${r.host}/bigconfig:latest`), { message: `image config ${configDigest} is ${5 * MiB} bytes, more than the ${4 * MiB} allowed` });
    assert.deepEqual(
      r.seen.filter((p) => p.includes('/blobs/')),
      [],
    );
    assert.deepEqual(await stored(), []);
  });

  test('a failed layer download stops the others before the pull ends, and no blob is left', async () => {
    const good = Buffer.alloc(4096, 0x62);
    const bad = { digest: sha256('what the manifest promised'), size: 4096 };
    const held = { digest: sha256(good), size: good.length * 256 };
    const config = configOf([sha256('diff 0'), sha256('diff 1')]);
    const manifest = manifestOf({ digest: sha256(config), size: config.length }, [bad, held]);
    let releaseBad!: () => void;
    const badMayAnswer = new Promise<void>((resolve) => (releaseBad = resolve));
    let heldClosed: Promise<unknown> | undefined;
    const r = await registry(async (req, res) => {
      if (req.url?.includes('/manifests/')) return sendJson(res, manifest, 200, { 'Content-Type': MANIFEST_TYPE });
      if (req.url?.endsWith(sha256(config))) return sendJson(res, config);
      if (req.url?.endsWith(bad.digest)) {
        // Fails only once the other layer is being written into the content store.
        await badMayAnswer;
        res.writeHead(200, { 'Content-Length': String(bad.size) });
        res.end(Buffer.alloc(bad.size, 0x78));
        return;
      }
      if (req.url?.endsWith(held.digest)) {
        // Some bytes, then nothing until the client gives up.
        heldClosed = new Promise((resolve) => res.once('close', resolve));
        res.writeHead(200, { 'Content-Length': String(held.size) });
        res.write(good);
        return;
      }
      sendJson(res, {}, 404);
    });
    const heldId = held.digest.slice(7, 19);
    const progress = (m: JsonMessage) => {
      if (m.status === 'Downloading' && m.id === heldId) releaseBad();
    };
    await assert.rejects(pull(`${r.host}/halfway:latest`, progress), { message: `filesystem layer verification failed for digest ${bad.digest}` });
    // At this point the held download must already be over: its ingest file gone.
    assert.deepEqual(await stored(), []);
    await heldClosed;
  });
});
