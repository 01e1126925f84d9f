// docker image prune (issue 10, item 2): dangling by default, -a, label and until filters, the
// reclaimed-space line, events, images used by containers kept, layer dirs freed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';

describe('docker image prune', () => {
  const f = daemonForFile();
  let d: Daemon;
  let work: string;
  before(async () => {
    d = f.daemon();
    work = await mkdtemp('/tmp/bt-prune-');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** A one-layer rootfs tarball of its own (so its layer is not shared): about `kb` KiB. */
  async function rootfsTar(name: string, kb = 256): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data'), randomBytes(kb * 1024));
    const tar = join(work, `${name}.tar`);
    const r = spawnSync('tar', ['-C', dir, '-cf', tar, '.']);
    assert.equal(r.status, 0, String(r.stderr));
    return tar;
  }

  async function importImage(name: string, extra: string[] = []): Promise<string> {
    const out = await d.dockerOk(['import', ...extra, await rootfsTar(name)]);
    return out.split('\n').at(-1)!;
  }

  const exists = async (ref: string) => (await d.api('GET', `/images/${encodeURIComponent(ref)}/json`)).status === 200;
  const layerDir = async (ref: string) => {
    const img = JSON.parse(await d.dockerOk(['image', 'inspect', ref]))[0];
    return join(d.dataRoot, 'snapshots', 'layers', (img.RootFS.Layers[0] as string).slice(7));
  };
  const gone = async (path: string) => {
    // rmi frees the files right after answering
    for (let i = 0; i < 100; i++) {
      try {
        await access(path);
      } catch {
        return true;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };

  test('prune -f removes dangling images only, keeps tagged ones and one a stopped container uses', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const loose = await importImage('loose');
    const looseLayer = await layerDir(loose);
    const used = await importImage('used');
    // kept across tests (not f.name, which removes after each): the last test removes it
    await d.dockerOk(['create', '--name', 'prune-user', used, '/data']);
    const tagged = await importImage('tagged');
    await d.dockerOk(['tag', tagged, 'keepme:1']);

    const out = await d.dockerOk(['image', 'prune', '-f']);
    const lines = out.split('\n');
    assert.equal(lines[0], 'Deleted Images:');
    assert.ok(lines.includes(`deleted: ${loose}`), out);
    assert.match(out, /^Total reclaimed space: 2\d\d(\.\d+)?kB$/m, 'the 256 KiB layer');
    assert.equal(await exists(loose), false);
    assert.equal(await exists(used), true, 'an image a stopped container uses stays');
    assert.equal(await exists('keepme:1'), true);
    assert.equal(await exists('busybox'), true);
    assert.ok(await gone(looseLayer), 'the layer dir is freed');

    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d.api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['image'] }))}`);
    const events = ev.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.Action === 'delete' && e.Actor.ID === loose), ev.text);
    const prune = events.find((e) => e.Action === 'prune');
    assert.ok(prune, ev.text);
    assert.match(prune.Actor.Attributes.reclaimed, /^[1-9]\d*$/);
  });

  test('prune --filter label / label! picks images by their labels', async () => {
    const marked = await importImage('marked', ['--change', 'LABEL prune=yes']);
    const plain = await importImage('plain');
    const out = await d.dockerOk(['image', 'prune', '-f', '--filter', 'label=prune=yes']);
    assert.ok(out.includes(`deleted: ${marked}`), out);
    assert.equal(await exists(marked), false);
    assert.equal(await exists(plain), true);
    const other = await importImage('other', ['--change', 'LABEL stay=1']);
    const out2 = await d.dockerOk(['image', 'prune', '-f', '--filter', 'label!=stay']);
    assert.ok(out2.includes(`deleted: ${plain}`), out2);
    assert.equal(await exists(other), true);
    await d.dockerOk(['image', 'prune', '-f']);
  });

  test('prune -a --filter until=24h removes only images created before then', async () => {
    await importImage('fresh');
    const fresh = await importImage('fresh2');
    await d.dockerOk(['tag', fresh, 'fresh:1']);
    // busybox's image was made long ago; fresh:1 just now
    const out = await d.dockerOk(['image', 'prune', '-a', '-f', '--filter', 'until=24h']);
    assert.match(out, /^untagged: busybox:latest$/m);
    assert.equal(await exists('busybox'), false);
    assert.equal(await exists('fresh:1'), true);
    const bad = await d.docker(['image', 'prune', '-f', '--filter', 'until=whenever']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /failed to parse value as time or duration/);
    await d.ensureBusybox();
  });

  test('prune -a -f removes every image no container uses; then nothing is left to reclaim', async () => {
    const used = (await d.dockerOk(['inspect', '--format', '{{.Image}}', 'prune-user'])).trim();
    const out = await d.dockerOk(['image', 'prune', '-a', '-f']);
    assert.match(out, /^untagged: keepme:1$/m);
    assert.match(out, /^untagged: fresh:1$/m);
    assert.match(out, /^untagged: busybox:latest$/m);
    assert.equal(await exists(used), true, 'the stopped container still holds its image');
    await d.dockerOk(['rm', 'prune-user']);
    const out2 = await d.dockerOk(['image', 'prune', '-a', '-f']);
    assert.ok(out2.includes(`deleted: ${used}`), out2);
    assert.equal((await d.api('GET', '/images/json')).json.length, 0);
    const empty = await d.api('POST', '/images/prune?filters=' + encodeURIComponent(JSON.stringify({ dangling: ['false'] })));
    assert.deepEqual(empty.json, { ImagesDeleted: null, SpaceReclaimed: 0 });
    assert.equal(await d.dockerOk(['image', 'prune', '-f']), 'Total reclaimed space: 0B');
    await d.ensureBusybox();
  });
});
