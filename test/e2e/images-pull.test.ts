// End to end for the images layer: a real docker-registry on 127.0.0.1 seeded with busybox
// by skopeo, ImageService over a real SQLite file in a temp data-root, and real overlay mounts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ImageService } from '../../src/images/image-service.js';
import { Snapshotter, isMountPoint } from '../../src/images/layers/snapshotter.js';
import type { ImageEvent, JsonMessage } from '../../src/images/types.js';
import { NotFoundError, InvalidParameterError } from '../../src/errors.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { buildDockerArchive, buildOciArchive, writeOciLayout } from '../fixtures/image-archive.js';
import { pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';

let registry: RunningRegistry;
let work: string;
let root: string;
let rootfs: Buffer;
let db: Database.Database;
let images: ImageService;
const events: ImageEvent[] = [];

async function leftovers(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, 'content', 'ingest'))) out.push(`ingest/${name}`);
  for (const name of await readdir(join(root, 'snapshots', 'layers'))) if (name.startsWith('.tmp-')) out.push(`layers/${name}`);
  return out;
}

async function dirEntries(path: string): Promise<string[]> {
  return (await readdir(path)).filter((n) => !n.startsWith('.'));
}

before(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-images-e2e-'));
  rootfs = await buildBusyboxRootfs();
  await writeOciLayout(rootfs, join(work, 'oci'));
  await pushImage(registry.host, join(work, 'oci'), 'busybox:latest');
  root = join(work, 'root');
  db = new Database(join(work, 'berth.db'));
  db.pragma('journal_mode = WAL');
  images = new ImageService({ db, root, logger: pino({ level: 'silent' }) });
  images.onEvent((e) => events.push(e));
});

after(async () => {
  db?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('images e2e', () => {
  test('pull streams Docker progress and unpacks the layer', async () => {
    const msgs: JsonMessage[] = [];
    const ref = `${registry.host}/busybox`;
    const img = await images.pull(ref, { progress: (m) => msgs.push(m) });
    const statuses = msgs.map((m) => m.status);
    assert.deepEqual(msgs[0], { status: 'Pulling from busybox', id: 'latest' });
    assert.ok(statuses.includes('Pulling fs layer'));
    assert.ok(statuses.includes('Verifying Checksum'));
    assert.ok(statuses.includes('Download complete'));
    assert.ok(statuses.includes('Pull complete'));
    const dl = msgs.find((m) => m.status === 'Downloading');
    assert.ok(dl?.progressDetail?.total && dl.progress?.startsWith('['), 'a Downloading message with a bar');
    assert.match(statuses.at(-2) ?? '', /^Digest: sha256:[a-f0-9]{64}$/);
    assert.equal(statuses.at(-1), `Status: Downloaded newer image for ${registry.host}/busybox:latest`);
    const layerId = msgs.find((m) => m.status === 'Pull complete')?.id ?? '';
    assert.match(layerId, /^[a-f0-9]{12}$/);

    assert.deepEqual(img.repoTags, [`${registry.host}/busybox:latest`]);
    assert.equal(img.repoDigests.length, 1);
    assert.deepEqual(img.config.config?.Cmd, ['sh']);
    assert.ok(img.size > 500_000);
    const dirs = images.layerDirs(img.id);
    assert.equal(dirs.length, 1);
    assert.ok((await stat(join(dirs[0], 'bin', 'busybox'))).mode & 0o111);
    assert.equal((await stat(join(dirs[0], 'tmp'))).mode & 0o7777, 0o1777);
    assert.deepEqual(events.at(-1), { action: 'pull', id: `${registry.host}/busybox:latest`, name: `${registry.host}/busybox` });

    assert.equal(images.get(ref).id, img.id);
    assert.equal(images.get(img.id).id, img.id);
    assert.equal(images.get(img.id.slice(7, 19)).id, img.id);
    assert.equal(images.get(img.repoDigests[0]).id, img.id);
    assert.equal(images.list().length, 1);

    const again: JsonMessage[] = [];
    await images.pull(ref, { progress: (m) => again.push(m) });
    assert.equal(again.at(-1)?.status, `Status: Image is up to date for ${registry.host}/busybox:latest`);
    assert.deepEqual(await leftovers(), []);
  });

  test('failures are clear and leave nothing behind', async () => {
    const before = (await dirEntries(join(root, 'snapshots', 'layers'))).length;
    const blobsBefore = (await readdir(join(root, 'content', 'blobs', 'sha256'))).length;
    await assert.rejects(images.pull(`${registry.host}/busybox:nope`, { progress: () => undefined }), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `manifest for ${registry.host}/busybox:nope not found: manifest unknown: manifest unknown`);
      return true;
    });
    // distribution 2.8 answers MANIFEST_UNKNOWN for a repository it never saw; docker prints the same.
    await assert.rejects(images.pull(`${registry.host}/nothere`, { progress: () => undefined }), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `manifest for ${registry.host}/nothere:latest not found: manifest unknown: manifest unknown`);
      return true;
    });
    await assert.rejects(images.pull('127.0.0.1:1/busybox', { progress: () => undefined }), {
      message: 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
    });
    await assert.rejects(images.pull('Busybox', { progress: () => undefined }), InvalidParameterError);
    assert.equal((await dirEntries(join(root, 'snapshots', 'layers'))).length, before);
    assert.equal((await readdir(join(root, 'content', 'blobs', 'sha256'))).length, blobsBefore);
    assert.deepEqual(await leftovers(), []);
    assert.equal(images.list().length, 1);
    assert.throws(() => images.get('busybox'), { message: 'No such image: busybox:latest' });
  });

  test('tag and remove follow moby semantics', () => {
    const id = images.get(`${registry.host}/busybox`).id;
    const short = id.slice(7, 19);
    images.tag(id, 'mybox', 'v1');
    images.tag(id, 'other/box');
    assert.deepEqual(events.at(-1), { action: 'tag', id, name: 'other/box:latest' });
    assert.throws(() => images.tag(id, 'Bad'), InvalidParameterError);
    assert.throws(() => images.tag('nope', 'x'), NotFoundError);
    assert.deepEqual(images.get('mybox:v1').repoTags.slice(1), ['docker.io/library/mybox:v1', 'docker.io/other/box:latest']);

    const stopped = () => ({ running: false, containerId: '0123456789abcdef' });
    const running = () => ({ running: true, containerId: '0123456789abcdef' });
    const none = () => null;
    assert.throws(() => images.remove(short, { inUse: none }), {
      message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
    });
    assert.throws(() => images.remove(short, { inUse: running, force: true }), {
      message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container 0123456789ab`,
    });
    // moby checks containers on untag only when the reference is the image's single one
    // (image_delete.go: !force && isSingleReference(repoRefs)): other tags remain, so it goes
    assert.deepEqual(images.remove('mybox:v1', { inUse: stopped }), [{ Untagged: 'mybox:v1' }]);
    assert.deepEqual(images.remove('other/box', { inUse: running, force: true }), [{ Untagged: 'other/box:latest' }]);
    assert.deepEqual(events.at(-1), { action: 'untag', id, name: id });
    assert.equal(images.get(id).repoTags.length, 1);
    // the last tag (with its repository's digest reference) is single: a container keeps it
    const last = `${registry.host}/busybox`;
    assert.throws(() => images.remove(last, { inUse: stopped }), {
      message: `conflict: unable to remove repository reference "${last}" (must force) - container 0123456789ab is using its referenced image ${short}`,
    });
    assert.equal(images.get(id).repoTags.length, 1);
  });

  test('load of a docker-archive and an OCI layout tarball', async () => {
    const pulledId = images.get(`${registry.host}/busybox`).id;
    const { archive, imageId } = await buildDockerArchive(rootfs, ['loaded:v1']);
    const msgs: JsonMessage[] = [];
    const loaded = await images.load(Readable.from([archive]), { progress: (m) => msgs.push(m) });
    assert.deepEqual(msgs, [{ stream: 'Loaded image: loaded:v1\n' }]);
    assert.equal(loaded[0].id, imageId);
    // Same config as the pushed image: the same image, now with one more tag.
    assert.equal(imageId, pulledId);
    assert.deepEqual(images.get('loaded:v1').repoTags.at(-1), 'docker.io/library/loaded:v1');

    const oci = await buildOciArchive(rootfs);
    const ociMsgs: JsonMessage[] = [];
    await images.load(Readable.from([oci]), { progress: (m) => ociMsgs.push(m) });
    assert.deepEqual(ociMsgs, [{ stream: `Loaded image ID: ${imageId}\n` }]);
    await assert.rejects(images.load(Readable.from([rootfs]), { progress: () => undefined }), InvalidParameterError);
    assert.deepEqual(await leftovers(), []);
  });

  test('import of a rootfs tarball with changes', async () => {
    const msgs: JsonMessage[] = [];
    const img = await images.import(Readable.from([gzipSync(rootfs)]), {
      repo: 'imported',
      tag: 't1',
      message: 'from the fixture',
      changes: ['CMD ["echo", "hi"]', 'ENV FOO=bar', 'WORKDIR /tmp', 'EXPOSE 8080', 'LABEL a=b'],
      progress: (m) => msgs.push(m),
    });
    assert.deepEqual(msgs, [{ status: img.id }]);
    assert.deepEqual(img.repoTags, ['docker.io/library/imported:t1']);
    assert.deepEqual(img.config.config?.Cmd, ['echo', 'hi']);
    assert.deepEqual(img.config.config?.Env, ['FOO=bar']);
    assert.equal(img.config.config?.WorkingDir, '/tmp');
    assert.deepEqual(img.config.config?.ExposedPorts, { '8080/tcp': {} });
    assert.equal(img.config.history?.[0].comment, 'from the fixture');
    const dir = images.layerDirs(img.id)[0];
    assert.ok((await stat(join(dir, 'bin', 'busybox'))).isFile());
    assert.deepEqual(events.at(-1), { action: 'import', id: img.id, name: img.id });
    await assert.rejects(images.import(Readable.from([rootfs]), { changes: ['RUN true'], progress: () => undefined }), InvalidParameterError);
  });

  test('snapshotter mounts a working overlay and cleans up', async () => {
    const snap = new Snapshotter({ root, images });
    const img = images.get('imported:t1');
    const cid = 'c0ffee'.padEnd(64, '0');
    await snap.prepare(cid, img.id);
    const merged = await snap.mount(cid, img.id);
    assert.equal(await snap.mount(cid, img.id), merged, 'mount is idempotent');
    try {
      assert.ok(await isMountPoint(merged));
      assert.ok((await stat(join(merged, 'bin', 'busybox'))).isFile());
      await writeFile(join(merged, 'hello.txt'), 'hi');
      const upper = join(root, 'snapshots', 'containers', cid, 'upper');
      assert.equal(await readFile(join(upper, 'hello.txt'), 'utf8'), 'hi');
      await rm(join(merged, 'etc', 'passwd'));
      assert.ok((await stat(join(upper, 'etc', 'passwd'))).isCharacterDevice(), 'deletion became a whiteout');
      assert.deepEqual(await snap.list(), [cid]);
    } finally {
      await snap.unmount(cid);
    }
    assert.equal(await isMountPoint(merged), false);
    await snap.unmount(cid);
    await snap.remove(cid);
    await snap.remove(cid);
    assert.deepEqual(await snap.list(), []);
  });

  test('removing every image removes layers and blobs', async () => {
    const none = () => null;
    for (const img of images.list()) {
      const out = images.remove(img.id, { inUse: none, force: true });
      assert.ok(out.some((r) => 'Deleted' in r && r.Deleted === img.id));
    }
    assert.equal(images.list().length, 0);
    // Files are removed right after the rows; give the background removal a moment.
    for (let i = 0; i < 50; i++) {
      if ((await dirEntries(join(root, 'snapshots', 'layers'))).length === 0 && (await readdir(join(root, 'content', 'blobs', 'sha256'))).length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await readdir(join(root, 'snapshots', 'layers')), []);
    assert.deepEqual(await readdir(join(root, 'content', 'blobs', 'sha256')), []);
    assert.throws(() => images.get('loaded:v1'), NotFoundError);
  });
});
