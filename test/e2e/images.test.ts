// Images with the real docker CLI: pull (progress), tag, rmi conflicts, load, import, and the
// errors users hit first (invalid reference, missing tag, unreachable registry).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readBody, startDaemon, testRegistry, type Daemon, type FixturePaths } from './harness.js';

describe('images', () => {
  let d: Daemon;
  let registry: { host: string; stop(): Promise<void> };
  let fx: FixturePaths;
  let containers: string[] = [];

  before(async () => {
    registry = await testRegistry();
    d = await startDaemon();
    fx = await d.ensureBusybox();
  });
  afterEach(async () => {
    for (const c of containers) await d.api('DELETE', `/containers/${c}?force=1`);
    containers = [];
  });
  after(async () => {
    try {
      await d?.cleanup();
    } finally {
      await registry?.stop();
    }
  });

  /** Remove every image except busybox:latest (which the harness loaded). */
  async function resetImages(): Promise<void> {
    const list = (await d.api('GET', '/images/json')).json as { Id: string; RepoTags: string[] }[];
    for (const img of list) {
      for (const tag of img.RepoTags ?? []) if (tag !== 'busybox:latest') await d.api('DELETE', `/images/${encodeURIComponent(tag)}?force=1`);
    }
    await d.ensureBusybox();
  }

  test('pull prints Docker-style progress, then "up to date" the second time', async () => {
    const ref = `${registry.host}/busybox:latest`;
    const fresh = await startDaemon();
    try {
      const r = await fresh.docker(['pull', ref], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], 'latest: Pulling from busybox');
      // non-TTY output: one line per status change of each layer
      const layer = /^([0-9a-f]{12}): Pulling fs layer$/m.exec(r.stdout)?.[1];
      assert.ok(layer, r.stdout);
      assert.match(r.stdout, new RegExp(`^${layer}: Download complete$`, 'm'));
      assert.match(r.stdout, new RegExp(`^${layer}: Pull complete$`, 'm'));
      assert.match(r.stdout, /^Digest: sha256:[0-9a-f]{64}$/m);
      assert.match(r.stdout, new RegExp(`^Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}$`, 'm'));
      assert.equal(lines[lines.length - 1], ref);

      const again = await fresh.docker(['pull', ref]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${ref.replace(/\./g, '\\.')}`));
    } finally {
      await fresh.cleanup();
    }
  });

  test('pulling an image that is already stored under another name prints no layer lines, as pull_v2 does', async () => {
    await resetImages();
    const ref = `${registry.host}/busybox:latest`;
    const r = await d.docker(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'latest: Pulling from busybox',
      r.stdout.match(/^Digest: sha256:[0-9a-f]{64}$/m)?.[0],
      `Status: Downloaded newer image for ${ref}`,
      ref,
    ]);
    await d.dockerOk(['rmi', ref]);
  });

  test('pull over the raw API streams JSON progress messages for a new layer', async () => {
    // a daemon that has never seen the layer, so it must download it
    const fresh = await startDaemon();
    try {
      const res = await fresh.stream('POST', `/images/create?fromImage=${encodeURIComponent(`${registry.host}/busybox`)}&tag=latest`, undefined, { timeoutMs: 120_000 });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      const msgs = (await readBody(res)).trim().split(/\r?\n/).map((l) => JSON.parse(l));
      const statuses = msgs.map((m) => m.status);
      assert.equal(statuses[0], 'Pulling from busybox');
      assert.equal(msgs[0].id, 'latest');
      for (const s of ['Pulling fs layer', 'Downloading', 'Download complete', 'Extracting', 'Pull complete']) {
        assert.ok(statuses.includes(s), `missing "${s}" in ${statuses.join(', ')}`);
      }
      const dl = msgs.filter((m) => m.status === 'Downloading');
      assert.match(dl[0].id, /^[0-9a-f]{12}$/);
      assert.ok(dl[0].progressDetail.total > 0);
      assert.equal(dl.at(-1).progressDetail.current, dl.at(-1).progressDetail.total, 'the last Downloading shows the whole layer');
      assert.match(statuses.at(-2), /^Digest: sha256:/);
      assert.equal(statuses.at(-1), `Status: Downloaded newer image for ${registry.host}/busybox:latest`);
      assert.ok(!msgs.some((m) => m.error), 'no error message');
    } finally {
      await fresh.cleanup();
    }
  });

  test('tag adds a name; inspect shows both RepoTags; rmi of one name only untags', async () => {
    await resetImages();
    await d.dockerOk(['tag', 'busybox', 'example.com/team/bb:v1']);
    await d.dockerOk(['tag', fx.imageId.slice(7, 19), 'bb2']);
    const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'busybox']))[0];
    assert.deepEqual([...img.RepoTags].sort(), ['bb2:latest', 'busybox:latest', 'example.com/team/bb:v1'].sort());
    assert.equal(img.Id, fx.imageId);
    const r = await d.docker(['rmi', 'example.com/team/bb:v1', 'bb2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Untagged: example.com/team/bb:v1\nUntagged: bb2:latest\n');
    assert.equal(await d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']), fx.imageId);
  });

  test('rmi of an image a container uses: 409 without -f; -f untags it', async () => {
    await resetImages();
    await d.dockerOk(['import', fx.rootfs, 'victim:1']);
    const imported = await d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'victim:1']);
    const c = await d.dockerOk(['create', 'victim:1', '/bin/true']);
    containers.push(c);
    const r = await d.docker(['rmi', 'victim:1']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`conflict: unable to remove repository reference "victim:1" \\(must force\\) - container ${c.slice(0, 12)} is using its referenced image ${imported.slice(7, 19)}`),
    );
    const api = await d.api('DELETE', '/images/victim:1');
    assert.equal(api.status, 409);
    assert.equal(api.headers['content-type'], 'application/json');
    const byId = await d.api('DELETE', `/images/${imported.slice(7)}`);
    assert.equal(byId.status, 409);
    const forced = await d.docker(['rmi', '-f', 'victim:1']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Untagged: victim:1/);
    // the container still inspects
    assert.equal((await d.api('GET', `/containers/${c}/json`)).status, 200);
  });

  test('docker load of the fixture docker-archive', async () => {
    await resetImages();
    await d.dockerOk(['rmi', 'busybox']);
    const r = await d.docker(['load', '-i', fx.archive]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Loaded image: busybox:latest/);
    assert.equal(await d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']), fx.imageId);
    const run = await d.docker(['run', '--rm', 'busybox', 'echo', 'loaded']);
    assert.equal(run.stdout, 'loaded\n');
  });

  test('docker load of garbage is a clear error and the daemon stays up', async () => {
    const r = await d.docker(['load'], { input: Buffer.from('this is not a tar archive at all') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error/);
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('docker import of the rootfs tar makes a runnable image', async () => {
    await resetImages();
    const id = await d.dockerOk(['import', fx.rootfs, 'imported:v1']);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'imported:v1']))[0];
    assert.equal(img.Id, id);
    assert.deepEqual(img.RepoTags, ['imported:v1']);
    assert.equal(img.RootFS.Layers.length, 1);
    const run = await d.docker(['run', '--rm', 'imported:v1', 'echo', 'from-import']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'from-import\n');
    // from stdin, with a change
    const id2 = await d.dockerOk(['import', '-c', 'CMD ["echo", "default-cmd"]', '-', 'imported:v2'], { input: await import('node:fs/promises').then((f) => f.readFile(fx.rootfs)) });
    assert.match(id2, /^sha256:/);
    const run2 = await d.docker(['run', '--rm', 'imported:v2']);
    assert.equal(run2.stdout, 'default-cmd\n');
    await d.dockerOk(['rmi', 'imported:v1', 'imported:v2']);
  });

  test('an invalid reference is a 400', async () => {
    const r = await d.api('POST', '/images/create?fromImage=Not%20Valid&tag=latest');
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(r.json.message, /invalid reference format/);
    const tag = await d.api('POST', '/images/busybox/tag?repo=UPPER&tag=x');
    assert.equal(tag.status, 400);
    assert.match(tag.json.message, /invalid reference format/);
    const cli = await d.docker(['tag', 'busybox', 'UPPER']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /invalid reference format/);
  });

  test('a missing tag is a 404 naming the manifest', async () => {
    const ref = `${registry.host}/busybox:nope`;
    const r = await d.docker(['pull', ref]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`manifest for ${ref.replace(/\./g, '\\.')} not found: manifest unknown`));
    const api = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${registry.host}/busybox`)}&tag=nope`);
    assert.equal(api.status, 404);
    assert.match(api.json.message, /manifest for .*busybox:nope not found/);
    const repo = await d.docker(['pull', `${registry.host}/no-such-repo`]);
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /not found|does not exist|repository/);
  });

  test('an unreachable registry is a clear error and leaves no image or download behind', async () => {
    const before = (await d.api('GET', '/images/json')).json.length;
    const r = await d.docker(['pull', '127.0.0.1:1/busybox'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
    assert.match(r.stderr, /connection refused|connect/i);
    const after = (await d.api('GET', '/images/json')).json;
    assert.equal(after.length, before);
    assert.ok(!JSON.stringify(after).includes('127.0.0.1:1/'));
    const ingest = join(d.dataRoot, 'content', 'ingest');
    const left = await readdir(ingest).catch(() => []);
    assert.deepEqual(left, [], 'no partial downloads in the content store');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('image inspect of a missing image is 404 "No such image"', async () => {
    const r = await d.api('GET', '/images/nothere:latest/json');
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'No such image: nothere:latest');
    const cli = await d.docker(['rmi', 'nothere']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /No such image: nothere/);
  });
});
