// Image-layer integrity against the real daemon (issue 7 item 1, review §1 and §9): a layer
// whose whiteout names its own parent fails to load and harms no other image, rmi -f leaves
// a stopped container's layers until the container goes, and a data-root whose layers dir
// was wrecked still starts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, prepareFixtures } from './harness.js';
import { buildDockerArchive, packToBuffer } from '../fixtures/image-archive.js';

describe('image-layer integrity', () => {
  const { daemon, name } = daemonForFile();
  const layersDir = () => join(daemon().dataRoot, 'snapshots', 'layers');
  const layerNames = async () => (await readdir(layersDir())).filter((n) => !n.startsWith('.')).sort();

  test('a layer with a .wh... whiteout fails to load or import and every other layer survives', async () => {
    const d = daemon();
    const before = await layerNames();
    assert.ok(before.length > 0);
    const evil = await packToBuffer((pack) => {
      pack.entry({ name: 'x' }, 'x');
      pack.entry({ name: '.wh...' }, '');
      pack.entry({ name: 'after' }, 'y');
    });
    const { archive } = await buildDockerArchive(evil, ['evil:1']);
    const file = join(d.base, 'evil.tar');
    await writeFile(file, archive);
    const load = await d.docker(['load', '-i', file]);
    assert.notEqual(load.code, 0, load.stdout);
    assert.match(load.stdout + load.stderr, /invalid whiteout name "\.wh\.\.\."/);
    const imp = await d.docker(['import', '-', 'evil:2'], { input: evil });
    assert.notEqual(imp.code, 0, imp.stdout);
    assert.match(imp.stdout + imp.stderr, /invalid whiteout name/);
    assert.ok((await lstat(layersDir())).isDirectory());
    assert.deepEqual(await layerNames(), before, 'no layer gone, none half-made');
    assert.equal((await d.api('GET', '/images/evil:1/json')).status, 404);
    assert.equal(await d.dockerOk(['run', '--rm', 'busybox', 'echo', 'still here']), 'still here');
  });

  test('rmi -f of an image used by a stopped container keeps its layers until the container is removed', async () => {
    const d = daemon();
    const src = name('integrity-src');
    await d.dockerOk(['run', '--name', src, 'busybox', 'sh', '-c', 'echo mine > /mine']);
    const baseLayers = await layerNames();
    await d.dockerOk(['commit', src, 'only-once:1']);
    const withCommit = await layerNames();
    const added = withCommit.filter((n) => !baseLayers.includes(n));
    assert.equal(added.length, 1, 'the commit added one layer');
    const c = name('integrity-user');
    await d.dockerOk(['create', '--name', c, 'only-once:1', 'cat', '/mine']);
    const rmi = await d.docker(['rmi', '-f', 'only-once:1']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /Deleted: sha256:/);
    assert.equal((await d.api('GET', '/images/only-once:1/json')).status, 404);
    assert.deepEqual(await layerNames(), withCommit, 'the layer stays while the container exists');
    assert.equal(await d.dockerOk(['start', '-a', c]), 'mine');
    assert.equal((await d.dockerOk(['cp', `${c}:/mine`, '-'])).includes('mine'), true);
    const exported = await d.docker(['export', c]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(exported.stdout.includes('mine'));
    const diff = await d.docker(['diff', c]);
    assert.equal(diff.code, 0, diff.stderr);
    // A daemon restart's scan counts the container too.
    await d.restart();
    assert.deepEqual(await layerNames(), withCommit);
    assert.equal(await d.dockerOk(['start', '-a', c]), 'mine');
    await d.dockerOk(['rm', c]);
    assert.deepEqual(await layerNames(), baseLayers, 'removing the container collects its layer');
  });

  test('the daemon starts over a data-root whose layers dir became a char device, and a new load restores the image', async () => {
    const d = daemon();
    const fx = await prepareFixtures();
    await d.stop('SIGTERM');
    // The state the §1 PoC left: every layer gone, a 0/0 char device in their place.
    await rm(layersDir(), { recursive: true, force: true });
    execFileSync('mknod', ['-m', '0000', layersDir(), 'c', '0', '0']);
    await d.start();
    assert.equal((await d.api('GET', '/_ping')).text, 'OK');
    assert.ok((await lstat(layersDir())).isDirectory());
    const run = await d.docker(['run', '--rm', 'busybox', 'true']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /missing from the layer store: pull or load the image again, or remove it/);
    assert.ok(!run.stderr.includes(d.dataRoot), 'no host path in the error');
    await d.dockerOk(['load', '-i', fx.archive]);
    assert.equal(await d.dockerOk(['run', '--rm', 'busybox', 'echo', 'back']), 'back');
  });
});
