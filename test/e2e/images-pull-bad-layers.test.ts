// Issue 10 item 6 on docker pull, with the docker CLI against a real docker-registry (and a
// fake one for what docker-registry refuses to store): truncated and corrupt gzip layers, a
// manifest naming a blob the registry does not have, and layer entries aiming outside the
// layer ('..', absolute paths, a symlink then a file through it, a hard link out of the layer,
// device nodes). Each fails with a clear error or stays inside its snapshot; no image is
// listed half-made, no layer dir is left half-unpacked, the host canary is untouched and the
// daemon keeps answering.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, prepareFixtures } from './harness.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { imageOf, pushRaw, putManifest, sha256, uploadBlob } from '../fixtures/registry-upload.js';
import { tarOf, type TarEntry } from '../fixtures/tar-of.js';
import { sendJson, startFakeRegistry } from '../fixtures/hostile-registry.js';
import { checkCanaryAndRemove, makeCanary, type Canary } from '../fixtures/canary.js';

describe('pull: bad layers', () => {
  const { daemon, name } = daemonForFile();
  let reg: RunningRegistry;
  let rootfs: Buffer;
  let canary: Canary;
  const tmpLayers = async () => (await readdir(join(daemon().dataRoot, 'snapshots', 'layers'))).filter((n) => n.startsWith('.tmp-'));

  before(async () => {
    reg = await startRegistry();
    rootfs = await readFile((await prepareFixtures()).rootfs);
    canary = await makeCanary('berth-pull-bad-');
  });
  after(async () => {
    await reg?.stop();
    if (canary) await checkCanaryAndRemove(canary);
  });

  /** Push busybox + a layer whose blob is `blob` (its diffID still that of `tar`); pull it. */
  async function pullWithLayer(repo: string, tar: Buffer, blob?: Buffer): Promise<{ code: number; stderr: string }> {
    const img = imageOf([{ tar: rootfs, compression: 'gzip' }, { tar, compression: 'gzip' }]);
    if (blob !== undefined) {
      const m = JSON.parse(img.manifest.toString());
      m.layers[1] = { ...m.layers[1], digest: sha256(blob), size: blob.length };
      const body = Buffer.from(JSON.stringify(m));
      for (const b of img.blobs.slice(0, 2)) await uploadBlob(reg.host, repo, b);
      await uploadBlob(reg.host, repo, blob);
      await putManifest(reg.host, repo, 'latest', body, img.mediaType);
    } else {
      await pushRaw(reg.host, repo, 'latest', img);
    }
    return daemon().docker(['pull', `${reg.host}/${repo}`]);
  }

  async function assertNothingHalf(repo: string): Promise<void> {
    const d = daemon();
    assert.equal((await d.api('GET', `/images/${reg.host}/${repo}/json`)).status, 404, 'no image listed');
    assert.deepEqual(await tmpLayers(), [], 'no half-unpacked layer dir');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  }

  const file = (n: string, body = 'x'): TarEntry => ({ header: { name: n, mode: 0o644 }, body });

  test('a truncated gzip layer fails clearly and leaves nothing half-made', async () => {
    const tar = await tarOf([file('big', 'y'.repeat(300_000) + Math.random())]);
    const gz = gzipSync(tar);
    const r = await pullWithLayer('truncated', tar, gz.subarray(0, Math.floor(gz.length / 2)));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid layer: unexpected end of file/);
    await assertNothingHalf('truncated');
  });

  test('a corrupt gzip layer fails clearly and leaves nothing half-made', async () => {
    const tar = await tarOf([file('big', 'z'.repeat(300_000) + Math.random())]);
    const gz = Buffer.from(gzipSync(tar));
    for (let i = 40; i < 56; i++) gz[i] ^= 0xff;
    const r = await pullWithLayer('corrupt', tar, gz);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid layer: |layer diffID .* does not match/);
    await assertNothingHalf('corrupt');
  });

  test('a manifest naming a blob the registry does not have fails with the registry\'s answer', async () => {
    const d = daemon();
    const img = imageOf([{ tar: rootfs, compression: 'gzip' }, { tar: await tarOf([file('a')]), compression: 'gzip' }]);
    const missing = img.layerDigests[1];
    const fake = await startFakeRegistry((req, res) => {
      if (req.url === '/v2/') return sendJson(res, {});
      if (req.url?.includes('/manifests/')) return sendJson(res, img.manifest, 200, { 'Content-Type': img.mediaType });
      const blob = img.blobs.find((b) => sha256(b) !== missing && req.url?.endsWith(sha256(b)));
      if (blob !== undefined) return sendJson(res, blob);
      sendJson(res, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: missing }] }, 404);
    });
    try {
      const r = await d.docker(['pull', `${fake.host}/missing`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`blob unknown: blob unknown to registry`));
      assert.equal((await d.api('GET', `/images/${fake.host}/missing/json`)).status, 404);
      assert.deepEqual(await tmpLayers(), []);
    } finally {
      await fake.stop();
    }
  });

  test("'..' and absolute entries land inside the layer, device nodes are not made at all", async () => {
    const d = daemon();
    const tar = await tarOf([
      file('../../../../escaped-up', 'up\n'),
      file(`/${canary.canary.slice(1)}/absolute`, 'abs\n'),
      { header: { name: '../../dev-evil', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
      { header: { name: 'blockdev', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o600 } },
    ]);
    const r = await pullWithLayer('dotdot', tar);
    assert.equal(r.code, 0, r.stderr);
    const out = await d.dockerOk(['run', '--rm', '--name', name('dotdot-run'), `${reg.host}/dotdot`, 'sh', '-c', `cat /escaped-up ${canary.canary}/absolute; ls /dev-evil /blockdev 2>&1 | wc -l`]);
    assert.match(out, /^up\nabs\n/);
    assert.ok(!out.includes('dev-evil\n'), out);
  });

  test('a symlink then a file through it, and a hard link out of the layer, are refused', async () => {
    const symlinkThenFile = await tarOf([
      { header: { name: 'esc', type: 'symlink', linkname: canary.canary } },
      file('esc/pwned', 'pwned'),
    ]);
    let r = await pullWithLayer('symlink-escape', symlinkThenFile);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /goes through a symlink: refusing to write outside the layer/);
    await assertNothingHalf('symlink-escape');

    const hardlinkOut = await tarOf([{ header: { name: 'passwd', type: 'link', linkname: '../../../../../../etc/passwd' } }]);
    r = await pullWithLayer('hardlink-escape', hardlinkOut);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /hardlink passwd -> \.\.\/.*: target is not a file inside the layer|does not exist inside the layer/);
    await assertNothingHalf('hardlink-escape');
  });
});
