// docker system df [-v] and docker builder prune (issue 10, item 5): real figures for images
// (shared size, containers), containers, volumes and the classic builder's cache; the `type`
// parameter; builder prune of dangling and of all cache entries, with layers kept images use kept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';

describe('docker system df and builder prune', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  before(async () => {
    d = f.daemon();
    dir = await mkdtemp('/tmp/bt-df-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function build(tag: string, lines: string[]): Promise<string> {
    const ctx = join(dir, tag.replace(/[:/]/g, '-'));
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
    return d.dockerOk(['build', '-t', tag, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
  }
  const df = async (q = '') => {
    const r = await d.api('GET', `/system/df${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const id = async (ref: string) => d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref]);

  test('df reports layers once, images with shared size and containers, the build cache as records', async () => {
    await build('df-built:1', ['FROM busybox', 'RUN head -c 300000 /dev/urandom > /big', 'ENV X=1', 'RUN echo hi > /small']);
    const user = f.name('df-user');
    await d.dockerOk(['run', '--name', user, '-v', 'df-vol:/v', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /v/z; head -c 7000 /dev/zero > /w']);
    const busybox = await id('busybox');
    const built = await id('df-built:1');
    const u = await df();

    const bb = u.Images.find((i: any) => i.Id === busybox);
    const mine = u.Images.find((i: any) => i.Id === built);
    assert.equal(bb.Containers, 1);
    assert.equal(mine.Containers, 0);
    assert.ok(mine.Size >= bb.Size + 300000);
    assert.equal(u.Images.length, 2, 'intermediate step images are not listed');
    assert.equal(u.LayersSize, mine.Size, 'each layer counted once');

    const c = u.Containers.find((x: any) => x.Names[0] === `/${user}`);
    assert.ok(c.SizeRw >= 7000 && c.SizeRw < 7000 + 64 * 1024, `SizeRw ${c.SizeRw}`);
    assert.equal(c.SizeRootFs, c.SizeRw + bb.Size);
    assert.deepEqual(u.Volumes.find((v: any) => v.Name === 'df-vol').UsageData, { Size: 5000, RefCount: 1 });

    const runBig = u.BuildCache.find((r: any) => /head -c 300000/.test(r.Description));
    assert.ok(runBig, JSON.stringify(u.BuildCache));
    assert.deepEqual(Object.keys(runBig), ['ID', 'Parents', 'Type', 'Description', 'InUse', 'Shared', 'Size', 'CreatedAt', 'LastUsedAt', 'UsageCount']);
    assert.equal(runBig.Type, 'regular');
    assert.equal(runBig.Shared, true, 'df-built:1 stands on the layer');
    assert.equal(runBig.InUse, false);
    assert.deepEqual(runBig.Parents, [busybox.slice(7)]);
    assert.ok(runBig.Size >= 300000 && runBig.Size < 300000 + 64 * 1024);
    // as moby: a layer counts as shared when more than one image (step images too) stands on it
    assert.equal(mine.SharedSize, bb.Size + runBig.Size);
    const env = u.BuildCache.find((r: any) => /ENV X=1/.test(r.Description));
    assert.equal(env.Size, 0, 'a metadata step adds no layer');
    assert.equal(env.Shared, true, 'a kept image descends from it');

    const text = await d.dockerOk(['system', 'df']);
    assert.match(text, /^Build Cache\s+3\s+0\s+0B\s+0B$/m, text);
    const verbose = await d.dockerOk(['system', 'df', '-v']);
    assert.match(verbose, /^Build cache usage: 0B$/m, verbose);
    assert.ok(verbose.includes(runBig.ID.slice(0, 12)), verbose);
    assert.match(verbose, /^df-built\s+1\s+/m);
    await d.dockerOk(['rm', user]);
    await d.dockerOk(['volume', 'rm', 'df-vol']);
  });

  test('type picks the parts (API 1.42+); an unknown type is a 400', async () => {
    const u = await df('?type=image&type=volume');
    assert.equal(u.Containers, null);
    assert.equal(u.BuildCache, null);
    assert.ok(Array.isArray(u.Images) && Array.isArray(u.Volumes));
    const bad = await d.api('GET', '/system/df?type=bogus');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'unknown object type: bogus');
    const old = await d.api('GET', '/v1.41/system/df?type=image');
    assert.ok(Array.isArray(old.json.Containers), 'before 1.42 type is ignored');
    assert.equal(typeof old.json.BuilderSize, 'number');
  });

  test('builder prune removes dangling cache only; -a every unused entry, keeping what images need', async () => {
    await build('df-temp:1', ['FROM busybox', 'RUN head -c 200000 /dev/urandom > /x']);
    const first = await id('df-temp:1');
    // the tag moves on: the first image is an untagged cache entry nothing else uses
    await build('df-temp:1', ['FROM busybox', 'RUN head -c 1000 /dev/urandom > /y']);
    const before = await df('?type=build-cache');
    const dangling = before.BuildCache.find((r: any) => r.ID === first.slice(7));
    assert.equal(dangling.Shared, false);

    const pruned = await d.dockerOk(['builder', 'prune', '-f']);
    assert.match(pruned, new RegExp(`^${first.slice(7)}$`, 'm'), pruned);
    assert.match(pruned, /Total reclaimed space: 20\dkB/);
    assert.equal((await d.api('GET', `/images/${first}/json`)).status, 404, 'its image went with it');
    assert.equal((await df('?type=build-cache')).BuildCache.length, before.BuildCache.length - 1, 'shared entries stay without -a');

    const bad = await d.api('POST', `/build/prune?filters=${encodeURIComponent(JSON.stringify({ until: ['1h'], 'unused-for': ['2h'] }))}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'conflicting filters: "until" and "unused-for"');

    const all = await d.api('POST', '/build/prune?all=1');
    assert.equal(all.status, 200, all.text);
    assert.ok(all.json.CachesDeleted.length >= 3);
    assert.equal(all.json.SpaceReclaimed, 0, 'tagged images still use every layer');
    assert.deepEqual((await df('?type=build-cache')).BuildCache, []);
    assert.equal(await d.dockerOk(['run', '--rm', 'df-built:1', 'cat', '/small']), 'hi');
    const again = await build('df-built:1', ['FROM busybox', 'RUN head -c 300000 /dev/urandom > /big', 'ENV X=1', 'RUN echo hi > /small']);
    assert.ok(!again.includes('Using cache'), 'the cache is forgotten');
    await d.dockerOk(['rmi', 'df-built:1', 'df-temp:1']);
  });
});
