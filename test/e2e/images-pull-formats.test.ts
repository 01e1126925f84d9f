// docker pull of every layer form issue 10 names, against a real docker-registry on 127.0.0.1
// filled through the distribution API: OCI and docker schema2 manifests; gzip, zstd and plain
// tar layers (zstd through Debian's zstd); zstd on load and import; foreign layers refused
// before anything is fetched; an OCI index with two platforms and --platform.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, prepareFixtures } from './harness.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { imageOf, indexOf, pushRaw, putManifest, sha256, zstdOf } from '../fixtures/registry-upload.js';
import { packToBuffer } from '../fixtures/image-archive.js';
import { tarOf } from '../fixtures/tar-of.js';
import { sendJson, startFakeRegistry } from '../fixtures/hostile-registry.js';

describe('pull: layer compressions, media types, platforms', () => {
  const { daemon, name } = daemonForFile();
  let reg: RunningRegistry;
  let rootfs: Buffer;
  const fileLayer = (path: string, text: string) => tarOf([{ header: { name: path, mode: 0o644, mtime: new Date('2024-01-01T00:00:00Z') }, body: text }]);
  const layerNames = async () => (await readdir(join(daemon().dataRoot, 'snapshots', 'layers'))).sort();

  before(async () => {
    reg = await startRegistry();
    rootfs = await readFile((await prepareFixtures()).rootfs);
  });
  after(async () => {
    await reg?.stop();
  });

  test('an OCI image of gzip, zstd and plain tar layers pulls and runs', async () => {
    const d = daemon();
    const img = imageOf([
      { tar: rootfs, compression: 'gzip' },
      { tar: await fileLayer('zstd.txt', 'from zstd\n'), compression: 'zstd' },
      { tar: await fileLayer('plain.txt', 'from plain\n'), compression: 'none' },
    ]);
    await pushRaw(reg.host, 'mixed', 'latest', img);
    const out = await d.dockerOk(['pull', `${reg.host}/mixed`]);
    assert.match(out, /Downloaded newer image/);
    assert.equal(await d.dockerOk(['run', '--rm', '--name', name('mixed-run'), `${reg.host}/mixed`, 'cat', '/zstd.txt', '/plain.txt']), 'from zstd\nfrom plain');
    const inspect = JSON.parse(await d.dockerOk(['image', 'inspect', `${reg.host}/mixed`]))[0];
    assert.equal(inspect.Id, img.configDigest);
    assert.equal(inspect.RootFS.Layers.length, 3);
    assert.deepEqual(inspect.RepoDigests, [`${reg.host}/mixed@${img.digest}`]);
  });

  test('a docker schema2 image of gzip and plain tar layers pulls and runs', async () => {
    const d = daemon();
    const img = imageOf(
      [
        { tar: rootfs, compression: 'gzip' },
        { tar: await fileLayer('docker.txt', 'schema2 plain\n'), compression: 'none' },
      ],
      { kind: 'docker' },
    );
    await pushRaw(reg.host, 'schema2', 'v1', img);
    await d.dockerOk(['pull', `${reg.host}/schema2:v1`]);
    assert.equal(await d.dockerOk(['run', '--rm', '--name', name('schema2-run'), `${reg.host}/schema2:v1`, 'cat', '/docker.txt']), 'schema2 plain');
  });

  test('zstd layers load (OCI layout) and import', async () => {
    const d = daemon();
    const img = imageOf([{ tar: rootfs, compression: 'zstd' }, { tar: await fileLayer('loaded.txt', 'zstd load\n'), compression: 'zstd' }]);
    const archive = await packToBuffer((pack) => {
      pack.entry({ name: 'oci-layout' }, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      for (const b of [...img.blobs, img.manifest]) pack.entry({ name: `blobs/sha256/${sha256(b).slice(7)}` }, b);
      const desc = { mediaType: img.mediaType, digest: img.digest, size: img.manifest.length, annotations: { 'io.containerd.image.name': 'zload:1' } };
      pack.entry({ name: 'index.json' }, JSON.stringify({ schemaVersion: 2, manifests: [desc] }));
    });
    const file = join(d.base, 'zstd-oci.tar');
    await writeFile(file, archive);
    assert.match(await d.dockerOk(['load', '-i', file]), /Loaded image: zload:1/);
    assert.equal(await d.dockerOk(['run', '--rm', '--name', name('zload-run'), 'zload:1', 'cat', '/loaded.txt']), 'zstd load');

    await d.dockerOk(['import', '-', 'zimport:1'], { input: zstdOf(rootfs) });
    assert.equal(await d.dockerOk(['run', '--rm', '--name', name('zimport-run'), 'zimport:1', 'echo', 'imported']), 'imported');
  });

  test('a corrupt zstd layer fails the pull with zstd\'s reason, no image and no layer left', async () => {
    const d = daemon();
    const good = zstdOf(await fileLayer('big.txt', 'z'.repeat(200_000) + Math.random()));
    const bad = Buffer.from(good);
    for (let i = Math.floor(bad.length / 2); i < bad.length / 2 + 16; i++) bad[i] ^= 0xff;
    const img = imageOf([{ tar: rootfs, compression: 'gzip' }, { tar: Buffer.alloc(0), compression: 'none' }]);
    // the second layer replaced by the corrupt frame (digests follow the bytes, so only zstd can tell)
    const manifest = JSON.parse(img.manifest.toString());
    manifest.layers[1] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256(bad), size: bad.length };
    const body = Buffer.from(JSON.stringify(manifest));
    await pushRaw(reg.host, 'badzstd', undefined, img);
    await (await import('../fixtures/registry-upload.js')).uploadBlob(reg.host, 'badzstd', bad);
    await putManifest(reg.host, 'badzstd', 'latest', body, img.mediaType);
    const before = await layerNames();
    const r = await d.docker(['pull', `${reg.host}/badzstd`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid zstd layer: /);
    assert.equal((await d.api('GET', `/images/${reg.host}/badzstd/json`)).status, 404);
    assert.deepEqual((await layerNames()).filter((n) => n.startsWith('.tmp-')), []);
    assert.ok((await layerNames()).length <= before.length + 1, 'at most the base layer was kept');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('foreign and non-distributable layers are refused before any blob is fetched', async () => {
    const d = daemon();
    for (const mediaType of ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip']) {
      const img = imageOf([
        { tar: await fileLayer('a', 'a'), compression: 'gzip' },
        { tar: await fileLayer('b', 'b'), compression: 'gzip', mediaType, urls: ['https://example.invalid/layer'] },
      ]);
      const fake = await startFakeRegistry((req, res) => {
        if (req.url === '/v2/') return sendJson(res, {});
        if (req.url?.includes('/manifests/')) return sendJson(res, img.manifest, 200, { 'Content-Type': img.mediaType });
        const blob = img.blobs.find((b) => req.url?.endsWith(sha256(b)));
        if (blob !== undefined) return sendJson(res, blob);
        sendJson(res, {}, 404);
      });
      try {
        const r = await d.docker(['pull', `${fake.host}/foreign`]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, new RegExp(`layer ${img.layerDigests[1]} is a foreign \\(non-distributable\\) layer of type ${mediaType.replace(/[.+]/g, '\\$&')}: berth does not fetch layers from outside the registry`));
        assert.deepEqual(fake.seen.filter((p) => p.includes('/blobs/')), []);
      } finally {
        await fake.stop();
      }
    }
  });

  test('an OCI index with amd64 and arm64: --platform picks each, and an absent platform is Docker\'s error', async () => {
    const d = daemon();
    const amd64 = imageOf([{ tar: rootfs, compression: 'gzip' }, { tar: await fileLayer('arch', 'amd64\n'), compression: 'gzip' }]);
    const arm64 = imageOf([{ tar: await fileLayer('arch', 'arm64\n'), compression: 'gzip' }], { architecture: 'arm64', variant: 'v8' });
    await pushRaw(reg.host, 'multi', undefined, amd64);
    await pushRaw(reg.host, 'multi', undefined, arm64);
    const index = indexOf([
      { image: amd64, architecture: 'amd64' },
      { image: arm64, architecture: 'arm64', variant: 'v8' },
    ]);
    await putManifest(reg.host, 'multi', 'latest', index.body, index.mediaType);

    await d.dockerOk(['pull', '--platform', 'linux/arm64', `${reg.host}/multi`]);
    let inspect = JSON.parse(await d.dockerOk(['image', 'inspect', `${reg.host}/multi`]))[0];
    assert.equal(inspect.Id, arm64.configDigest);
    assert.equal(inspect.Architecture, 'arm64');
    assert.deepEqual(inspect.RepoDigests, [`${reg.host}/multi@${index.digest}`]);

    await d.dockerOk(['pull', '--platform', 'linux/amd64', `${reg.host}/multi`]);
    inspect = JSON.parse(await d.dockerOk(['image', 'inspect', `${reg.host}/multi`]))[0];
    assert.equal(inspect.Id, amd64.configDigest);
    assert.equal(await d.dockerOk(['run', '--rm', '--name', name('multi-run'), `${reg.host}/multi`, 'cat', '/arch']), 'amd64');

    const r = await d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/multi`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: no matching manifest for linux\/s390x in the manifest list entries/);
  });
});
