// The CRI image service's pure parts: an image record as CRI shows it (uid/username from USER),
// AuthConfig to registry credentials, and the per-registry mirrors CRI pulls go through.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { criImage, imageUser } from '../../src/cri/images/view.js';
import { registryAuth } from '../../src/cri/images/auth.js';
import { RegistryConfig } from '../../src/images/distribution/registry-config.js';
import { InvalidParameterError } from '../../src/errors.js';
import type { ImageRecord } from '../../src/images/types.js';

describe('cri image view', () => {
  test('USER as uid or username, containerd\'s cases', () => {
    assert.deepEqual(imageUser(undefined), { username: '' });
    assert.deepEqual(imageUser(''), { username: '' });
    assert.deepEqual(imageUser('1002'), { uid: '1002', username: '' });
    assert.deepEqual(imageUser('0'), { uid: '0', username: '' });
    assert.deepEqual(imageUser('www-data'), { username: 'www-data' });
    assert.deepEqual(imageUser('1003:1004'), { uid: '1003', username: '' });
    assert.deepEqual(imageUser('www-data:1004'), { username: 'www-data' });
    assert.deepEqual(imageUser('99999999999999999999'), { username: '99999999999999999999' });
  });

  test('fully qualified names, config digest id, uid as Int64Value', () => {
    const rec = {
      id: `sha256:${'a'.repeat(64)}`,
      repoTags: ['docker.io/library/busybox:latest'],
      repoDigests: [`docker.io/library/busybox@sha256:${'b'.repeat(64)}`],
      config: { config: { User: '0' } },
      size: 1234,
      storedAt: '',
    } as unknown as ImageRecord;
    assert.deepEqual(criImage(rec, { pinned: true }), {
      id: rec.id,
      repoTags: ['docker.io/library/busybox:latest'],
      repoDigests: [`docker.io/library/busybox@sha256:${'b'.repeat(64)}`],
      size: '1234',
      uid: { value: '0' },
      username: '',
      spec: { image: rec.id, annotations: {} },
      pinned: true,
    });
    assert.equal(criImage({ ...rec, config: { config: {} } } as unknown as ImageRecord).uid, undefined);
  });
});

describe('cri auth', () => {
  test('username/password, identity token, auth, registry token', () => {
    assert.equal(registryAuth(undefined, 'x'), undefined);
    assert.equal(registryAuth({}, 'x'), undefined);
    assert.deepEqual(registryAuth({ username: 'alice', password: 'pw' }, '127.0.0.1:5000'), { username: 'alice', password: 'pw' });
    assert.deepEqual(registryAuth({ identityToken: 'tok' }, 'r'), { identitytoken: 'tok' });
    assert.deepEqual(registryAuth({ auth: Buffer.from('bob:p:w').toString('base64') }, 'r'), { username: 'bob', password: 'p:w' });
    assert.deepEqual(registryAuth({ registryToken: 'bearer' }, 'r'), { registrytoken: 'bearer' });
    assert.throws(() => registryAuth({ auth: Buffer.from('nocolon').toString('base64') }, 'r'), InvalidParameterError);
  });

  test('credentials for another server are not sent', () => {
    assert.equal(registryAuth({ username: 'a', password: 'b', serverAddress: 'other.example:5000' }, '127.0.0.1:5000'), undefined);
    assert.ok(registryAuth({ username: 'a', password: 'b', serverAddress: 'http://127.0.0.1:5000/v2/' }, '127.0.0.1:5000'));
    assert.ok(registryAuth({ username: 'a', password: 'b', serverAddress: '127.0.0.1:5000' }, '127.0.0.1:5000'));
    assert.ok(registryAuth({ username: 'a', password: 'b', serverAddress: 'https://index.docker.io/v1/' }, 'docker.io'));
  });
});

describe('per-registry mirrors', () => {
  test('a host\'s mirrors come first, as mirrors; Docker\'s own config is unchanged', async () => {
    const base = new RegistryConfig({ mirrors: ['https://hub-mirror.example'] });
    const cri = base.withHostMirrors({ 'registry.k8s.io': ['http://127.0.0.1:5000'], 'gcr.io': ['http://127.0.0.1:5001/', 'http://127.0.0.1:5002'] });
    const k8s = await cri.endpoints('registry.k8s.io', { mirrors: true });
    assert.deepEqual(k8s.map((e) => [e.url, e.mirror]), [['http://127.0.0.1:5000', true], ['https://registry.k8s.io', false]]);
    const gcr = await cri.endpoints('gcr.io', { mirrors: true });
    assert.deepEqual(gcr.map((e) => e.url), ['http://127.0.0.1:5001', 'http://127.0.0.1:5002', 'https://gcr.io']);
    // docker.io keeps the daemon's mirrors
    assert.deepEqual((await cri.endpoints('docker.io', { mirrors: true })).map((e) => e.url), ['https://hub-mirror.example', 'https://registry-1.docker.io']);
    // push and login (mirrors: false) and the daemon's own pulls never see them
    assert.deepEqual((await cri.endpoints('registry.k8s.io', { mirrors: false })).map((e) => e.url), ['https://registry.k8s.io']);
    assert.deepEqual((await base.endpoints('registry.k8s.io', { mirrors: true })).map((e) => e.url), ['https://registry.k8s.io']);
  });
});

describe('image fs usage', () => {
  test('bytes and inodes of the trees, hard links once; later askers get the last figure at once', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, linkSync, rmSync } = await import('node:fs');
    const { ImageFsUsage } = await import('../../src/cri/images/fs-usage.js');
    const dir = mkdtempSync('/tmp/cri-fsu-');
    try {
      mkdirSync(`${dir}/a/b`, { recursive: true });
      writeFileSync(`${dir}/a/f`, Buffer.alloc(10_000));
      linkSync(`${dir}/a/f`, `${dir}/a/b/g`);
      const u = new ImageFsUsage([`${dir}/a`, `${dir}/missing`]);
      const first = await u.get();
      // a/b, a/f (and its link, counted once)
      assert.equal(first.inodesUsed, 2);
      assert.ok(first.usedBytes >= 10_000);
      assert.ok(BigInt(first.timestampNs) > 0n);
      writeFileSync(`${dir}/a/h`, 'x');
      assert.deepEqual(await u.get(), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
