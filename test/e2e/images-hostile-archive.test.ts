// docker load of hostile archives (review §6 and §7): an OCI index stored under a name that
// is not its digest and listing itself (the review's load-loop PoC) ends at once with a 400,
// as does any blob whose name is not its digest; nested indexes are bounded; JSON files are
// read up to their caps; the client leaving stops the load. ImageService over a real SQLite
// file in a temp data-root, and the PoC once more through a daemon and the docker CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ImageService } from '../../src/images/image-service.js';
import { InvalidParameterError } from '../../src/errors.js';
import { imageParts, packToBuffer } from '../fixtures/image-archive.js';
import { sha256 } from '../fixtures/hostile-registry.js';
import { startDaemon, type Daemon } from './harness.js';

const MiB = 1 << 20;
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** Long enough for a fixed load; an unfixed one never ends, and this makes it fail instead. */
const HANG = { timeout: 60_000 };

let work: string;
let root: string;
let db: Database.Database;
let images: ImageService;
let rootfs: Buffer;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-hostile-archive-'));
  root = join(work, 'root');
  db = new Database(join(work, 'berth.db'));
  db.pragma('journal_mode = WAL');
  images = new ImageService({ db, root, logger: pino({ level: 'silent' }) });
  rootfs = await packToBuffer((pack) => {
    pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, 'hello\n');
  });
});

after(async () => {
  db?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function stored(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, 'content', 'ingest'))) out.push(`ingest/${name}`);
  for (const name of await readdir(join(root, 'content', 'blobs', 'sha256'))) out.push(`blobs/${name}`);
  for (const name of await readdir(join(root, 'snapshots', 'layers'))) out.push(`layers/${name}`);
  return out;
}

/** The review's load-loop PoC: an index stored as blobs/sha256/<x> that lists sha256:<x>. */
function selfListingIndex(): Promise<Buffer> {
  const x = 'a'.repeat(64);
  const self = { mediaType: INDEX_TYPE, digest: `sha256:${x}`, size: 1 };
  const loop = JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [self] });
  return ociTar([[x, loop]], { schemaVersion: 2, manifests: [self] });
}

/** An OCI layout tarball of the given blobs (name -> content) and index.json. */
function ociTar(blobs: [string, Buffer | string][], index: unknown): Promise<Buffer> {
  return packToBuffer((pack) => {
    pack.entry({ name: 'oci-layout' }, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    for (const [hex, body] of blobs) pack.entry({ name: `blobs/sha256/${hex}` }, body);
    pack.entry({ name: 'index.json' }, JSON.stringify(index));
  });
}

const load = (tar: Buffer) => images.load(Readable.from([tar]), { progress: () => undefined });

function invalid(message: string | RegExp) {
  return (err: Error) => {
    assert.ok(err instanceof InvalidParameterError, `${err.name}: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe('docker load of hostile archives', () => {
  test('an index stored as blobs/sha256/<x> that lists sha256:<x> ends at once with a 400', HANG, async () => {
    await assert.rejects(load(await selfListingIndex()), invalid(`invalid archive: the content of blobs/sha256/${'a'.repeat(64)} does not match its digest`));
    assert.deepEqual(await stored(), []);
  });

  test('a layer stored under a name that is not its digest is refused', async () => {
    const p = imageParts(rootfs);
    const fake = 'b'.repeat(64);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: p.configDigest, size: p.config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${fake}`, size: p.layerGz.length }],
    });
    const tar = await ociTar(
      [
        [fake, p.layerGz],
        [p.configDigest.slice(7), p.config],
        [sha256(manifest).slice(7), manifest],
      ],
      { schemaVersion: 2, manifests: [{ mediaType: MANIFEST_TYPE, digest: sha256(manifest), size: manifest.length }] },
    );
    await assert.rejects(load(tar), invalid(`invalid archive: the content of blobs/sha256/${fake} does not match its digest`));
    assert.deepEqual(await stored(), []);
  });

  test('indexes nested deeper than 8 are refused', async () => {
    const p = imageParts(rootfs);
    const blobs: [string, Buffer | string][] = [
      [p.layerDigest.slice(7), p.layerGz],
      [p.configDigest.slice(7), p.config],
      [p.manifestDigest.slice(7), p.manifest],
    ];
    let top = { mediaType: MANIFEST_TYPE, digest: p.manifestDigest, size: p.manifest.length };
    for (let i = 0; i < 9; i++) {
      const idx = JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [top] });
      blobs.push([sha256(idx).slice(7), idx]);
      top = { mediaType: INDEX_TYPE, digest: sha256(idx), size: idx.length };
    }
    await assert.rejects(load(await ociTar(blobs, { schemaVersion: 2, manifests: [top] })), invalid('invalid archive: indexes nested more than 8 deep'));
    assert.deepEqual(await stored(), []);
  });

  test('a manifest.json over 1 MiB and a config over 4 MiB are refused', async () => {
    const p = imageParts(rootfs);
    const layerPath = `${p.layerDigest.slice(7)}/layer.tar`;
    const dockerTar = (manifestJson: string, config: Buffer) =>
      packToBuffer((pack) => {
        const configName = `${sha256(config).slice(7)}.json`;
        pack.entry({ name: layerPath }, p.layerGz);
        pack.entry({ name: configName }, config);
        pack.entry({ name: 'manifest.json' }, manifestJson.replace('CONFIG', configName));
      });
    const manifestJson = JSON.stringify([{ Config: 'CONFIG', RepoTags: ['padded:v1'], Layers: [layerPath] }]);
    await assert.rejects(load(await dockerTar(manifestJson + ' '.repeat(MiB), p.config)), invalid(`invalid archive: manifest.json exceeds the maximum allowed size of ${MiB} bytes`));
    const bigConfig = Buffer.concat([p.config, Buffer.alloc(4 * MiB, 0x20)]);
    await assert.rejects(
      load(await dockerTar(manifestJson, bigConfig)),
      invalid(`invalid archive: image config ${sha256(bigConfig)} exceeds the maximum allowed size of ${4 * MiB} bytes`),
    );
    assert.deepEqual(await stored(), []);
  });

  test('the client leaving stops a load that is waiting for more of the archive', HANG, async () => {
    const p = imageParts(rootfs);
    const whole = await ociTar([[p.layerDigest.slice(7), p.layerGz]], { schemaVersion: 2, manifests: [] });
    const body = new PassThrough();
    body.write(whole.subarray(0, 2048));
    const ac = new AbortController();
    const loading = images.load(body, { progress: () => undefined, signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(loading, { name: 'AbortError' });
    assert.deepEqual(await stored(), []);
  });

  test('an index inside an index still loads', async () => {
    const p = imageParts(rootfs);
    const inner = JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [{ mediaType: MANIFEST_TYPE, digest: p.manifestDigest, size: p.manifest.length }] });
    const tar = await ociTar(
      [
        [p.layerDigest.slice(7), p.layerGz],
        [p.configDigest.slice(7), p.config],
        [p.manifestDigest.slice(7), p.manifest],
        [sha256(inner).slice(7), inner],
      ],
      { schemaVersion: 2, manifests: [{ mediaType: INDEX_TYPE, digest: sha256(inner), size: inner.length, annotations: { 'io.containerd.image.name': 'nested:v1' } }] },
    );
    const loaded = await load(tar);
    assert.equal(loaded[0].id, p.configDigest);
    assert.deepEqual(images.get('nested:v1').id, p.configDigest);
  });
});

describe('docker load of the load-loop PoC through the daemon', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('the CLI gets the 400 at once and the daemon keeps answering', HANG, async () => {
    const tar = await selfListingIndex();
    const r = await d.docker(['load'], { input: tar });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`invalid archive: the content of blobs/sha256/${'a'.repeat(64)} does not match its digest`));
    const api = await d.api('POST', '/images/load', tar, { headers: { 'content-type': 'application/x-tar' } });
    assert.equal(api.status, 400, api.text);
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });
});
