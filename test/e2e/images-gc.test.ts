// Garbage collection of images (issue 10, item 5): after rmi and prune every blob, layer dir and
// layer row that nothing uses is freed, so the data-root returns to its size before the pulls;
// and a pull running while rmi / prune -a removes an image sharing its base layers completes and
// runs. Images come from a private registry (skopeo pushes OCI layouts with shared layers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareFixtures, startDaemon, type Daemon } from './harness.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { writeLayeredLayout } from '../fixtures/layered-image.js';
import { pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { tarOf } from '../fixtures/tar-of.js';

/** Every file under `dir` with its size (directories as entries of size 0); SQLite files left out. */
async function inventory(dir: string, prefix = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of await readdir(dir)) {
    if (prefix === '' && /^berth\.db/.test(name)) continue;
    const rel = `${prefix}${name}`;
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) {
      out.set(`${rel}/`, 0);
      for (const [k, v] of await inventory(join(dir, name), `${rel}/`)) out.set(k, v);
    } else out.set(rel, st.size);
  }
  return out;
}

const total = (inv: Map<string, number>) => [...inv.values()].reduce((a, b) => a + b, 0);

/** A layer tar holding one file of `kb` KiB of random bytes at /name. */
function dataLayer(name: string, kb: number): Promise<Buffer> {
  return tarOf([{ header: { name, mode: 0o644, mtime: new Date(0) }, body: randomBytes(kb * 1024) }]);
}

/**
 * A proxy in front of the registry that can hold one path's response until released, so a
 * test can act while a pull waits for that blob.
 */
function blobGate(upstream: string) {
  let gated: { path: string; seen: () => void; open: Promise<void> } | undefined;
  const server = createServer((req, res) => {
    const forward = () => {
      const up = httpRequest({ host: upstream.split(':')[0], port: Number(upstream.split(':')[1]), path: req.url, method: req.method, headers: { ...req.headers, host: upstream } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    const g = gated;
    if (g !== undefined && req.method === 'GET' && req.url?.endsWith(g.path)) {
      g.seen();
      void g.open.then(forward);
    } else forward();
  });
  return {
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    hold(path: string) {
      let seen!: () => void;
      let release!: () => void;
      const requested = new Promise<void>((r) => (seen = r));
      const open = new Promise<void>((r) => (release = r));
      gated = { path, seen, open };
      return {
        requested,
        release: () => {
          gated = undefined;
          release();
        },
      };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('image garbage collection', () => {
  let d: Daemon;
  let registry: RunningRegistry;
  let work: string;
  let host: string;
  let onlyB: string;

  before(async () => {
    work = await mkdtemp('/tmp/bt-gc-');
    registry = await startRegistry();
    host = registry.host;
    const base = await buildBusyboxRootfs();
    const mid = await dataLayer('shared-mid', 512);
    // a, b: busybox + a shared middle layer + a layer of their own; c: busybox + its own layer
    const images: [string, Buffer[]][] = [
      ['gc/a:1', [base, mid, await dataLayer('only-a', 2048)]],
      ['gc/b:1', [base, mid, await dataLayer('only-b', 2048)]],
      ['gc/c:1', [base, await dataLayer('only-c', 1024)]],
    ];
    for (const [name, layers] of images) {
      const dir = join(work, name.replace(/[/:]/g, '-'));
      const made = await writeLayeredLayout(dir, layers, { cmd: ['sh'] });
      if (name === 'gc/b:1') onlyB = made.layerDigests[2];
      await pushImage(host, dir, name);
    }
    d = await startDaemon();
  });

  after(async () => {
    await d?.cleanup();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('rmi and image prune -a return the data-root to its size before the pulls, with no stray files', async () => {
    const fx = await prepareFixtures();
    const before = await inventory(d.dataRoot);
    for (const n of ['gc/a:1', 'gc/b:1', 'gc/c:1']) await d.dockerOk(['pull', '-q', `${host}/${n}`]);
    await d.dockerOk(['load', '-q', '-i', fx.archive]);
    await d.dockerOk(['import', fx.rootfs, 'gc-imported:1']);
    await d.dockerOk(['tag', `${host}/gc/a:1`, 'gc-second-tag:1']);
    const cid = await d.dockerOk(['create', `${host}/gc/c:1`, 'true']);
    const loaded = await inventory(d.dataRoot);
    assert.ok(total(loaded) > total(before) + 5 * 1024 * 1024, 'the pulls stored layers and blobs');

    // untag one name, delete two by name, then the rest by prune -a (c waits for its container)
    await d.dockerOk(['rmi', 'gc-second-tag:1']);
    await d.dockerOk(['rmi', `${host}/gc/a:1`, 'gc-imported:1']);
    const pruned = await d.dockerOk(['image', 'prune', '-a', '-f']);
    assert.match(pruned, /Total reclaimed space: [1-9]/);
    assert.equal((await d.api('GET', `/images/${host}/gc/c:1/json`)).status, 200, 'an image a container uses stays');
    await d.dockerOk(['rm', cid]);
    await d.dockerOk(['image', 'prune', '-a', '-f']);
    assert.equal(await d.dockerOk(['images', '-aq']), '');

    const after = await inventory(d.dataRoot);
    const added = [...after.keys()].filter((k) => !before.has(k));
    assert.deepEqual(added, [], 'no stray files');
    assert.equal(total(after), total(before), 'the same bytes as before the pulls');
    assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(d.dataRoot, 'snapshots', 'layers')), []);
  });

  test('a pull completes while rmi or prune -a removes an image that shares its base layers', async () => {
    // The pull goes through a proxy that holds B's own layer until the removal is done: the pull
    // has then found the shared layers present (and relies on them) but not committed B yet.
    const gate = blobGate(host);
    const proxy = await gate.listen();
    try {
      for (let round = 0; round < 4; round++) {
        await d.dockerOk(['pull', '-q', `${proxy}/gc/a:1`]);
        const sizeA = JSON.parse(await d.dockerOk(['image', 'inspect', `${proxy}/gc/a:1`]))[0].Size as number;
        const removal = round % 2 === 0 ? ['rmi', `${proxy}/gc/a:1`] : ['image', 'prune', '-a', '-f'];
        const held = gate.hold(`/v2/gc/b/blobs/${onlyB}`);
        const pull = d.docker(['pull', `${proxy}/gc/b:1`]);
        await held.requested;
        const rmi = await d.docker(removal);
        held.release();
        const pulled = await pull;
        assert.equal(pulled.code, 0, `round ${round}: pull: ${pulled.stderr}`);
        assert.equal(rmi.code, 0, `round ${round}: ${removal.join(' ')}: ${rmi.stderr}`);
        assert.match(rmi.stdout, /deleted: sha256:/i, `round ${round}: a was removed while b was pulled`);
        const out = await d.dockerOk(['run', '--rm', `${proxy}/gc/b:1`, 'sh', '-c', 'wc -c < /only-b; wc -c < /shared-mid; ls /bin/busybox']);
        assert.deepEqual(out.split('\n').map((l) => l.trim()), ['2097152', '524288', '/bin/busybox'], `round ${round}`);
        // b's layers are as big as a's: every shared layer's size is still known
        const inspect = JSON.parse(await d.dockerOk(['image', 'inspect', `${proxy}/gc/b:1`]))[0];
        assert.equal(inspect.Size, sizeA, `round ${round}`);
        // and the shared layers are whole in the store: pulling a again finds them
        const again = await d.dockerOk(['pull', `${proxy}/gc/a:1`]);
        assert.equal(again.match(/Already exists/g)?.length, 2, `round ${round}: ${again}`);
        await d.dockerOk(['rmi', `${proxy}/gc/b:1`, `${proxy}/gc/a:1`]);
      }
    } finally {
      await gate.close();
    }
    assert.deepEqual(await readdir(join(d.dataRoot, 'snapshots', 'layers')), []);
    assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'blobs', 'sha256')), []);
  });

  test('a daemon restart collects blobs and layer dirs that no row names', async () => {
    const stray = join(d.dataRoot, 'content', 'blobs', 'sha256', 'f'.repeat(64));
    await writeFile(stray, 'left by a crash');
    await mkdir(join(d.dataRoot, 'snapshots', 'layers', 'e'.repeat(64)));
    await d.restart();
    // the start-up sweep runs in the background; an rmi's answer waits for a sweep after it
    await d.dockerOk(['pull', '-q', `${host}/gc/c:1`]);
    await d.dockerOk(['rmi', `${host}/gc/c:1`]);
    assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(d.dataRoot, 'snapshots', 'layers')), []);
  });
});
