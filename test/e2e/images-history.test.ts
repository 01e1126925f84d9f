// docker history (real sizes, the parent chain's IDs and tags, as dockerd 20.10 answers for the
// same loaded image) and docker search with no index reachable (issue 10, item 2).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import * as tar from 'tar-stream';
import { daemonForFile, prepareFixtures, type Daemon } from './harness.js';
import { packToBuffer } from '../fixtures/image-archive.js';
import { tarOf } from '../fixtures/tar-of.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Bytes of the regular files in a tar, a hard-linked one once (moby's overlay2 DiffSize). */
async function unpackedSize(t: Buffer): Promise<number> {
  const ex = tar.extract();
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      if (h.type === 'file') n += h.size ?? 0;
      stream.resume();
      stream.on('end', next);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(t);
  await done;
  return n;
}

/** The image dockerd 20.10 was asked about: busybox + a 123456-byte file (and a hard link to it). */
async function histArchive(base: Buffer): Promise<{ archive: Buffer; id: string }> {
  const blob = Buffer.alloc(123456, 7);
  const l2 = await tarOf([
    { header: { name: 'data/', type: 'directory', mode: 0o755, mtime: new Date(0) } },
    { header: { name: 'data/blob', mode: 0o644, mtime: new Date(0) }, body: blob },
    { header: { name: 'data/link', type: 'link', linkname: 'data/blob', mtime: new Date(0) } },
  ]);
  const layers = [base, l2];
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-02-02T00:00:00Z',
      config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) },
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
        { created: '2024-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
        { created: '2024-02-02T00:00:00Z', created_by: '/bin/sh -c head -c 123456 /dev/urandom > /data/blob', comment: 'a comment' },
        { created: '2024-02-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  ENV X=1', empty_layer: true },
      ],
    }),
  );
  const cfg = sha(config);
  const paths = layers.map((l) => `${sha(l)}/layer.tar`);
  const archive = await packToBuffer((pack) => {
    pack.entry({ name: `${cfg}.json` }, config);
    layers.forEach((l, i) => pack.entry({ name: paths[i] }, l));
    pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${cfg}.json`, RepoTags: ['hist:1'], Layers: paths }]));
  });
  return { archive, id: `sha256:${cfg}` };
}

describe('docker history and docker search', () => {
  const f = daemonForFile();
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  test("history of a loaded image: dockerd's entries, sizes of the layers, <missing> below the image", async () => {
    const fx = await prepareFixtures();
    const base = await readFile(fx.rootfs);
    const { archive, id } = await histArchive(base);
    await d.dockerOk(['load', '-q'], { input: archive });
    const h = (await d.api('GET', '/images/hist:1/history')).json;
    // what dockerd 20.10 answered for this archive (its base layer's size is the rootfs' files)
    assert.deepEqual(h, [
      { Comment: '', Created: 1706832000, CreatedBy: '/bin/sh -c #(nop)  ENV X=1', Id: id, Size: 0, Tags: ['hist:1'] },
      { Comment: 'a comment', Created: 1706832000, CreatedBy: '/bin/sh -c head -c 123456 /dev/urandom > /data/blob', Id: '<missing>', Size: 123456, Tags: null },
      { Comment: '', Created: 1704067201, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Id: '<missing>', Size: 0, Tags: null },
      { Comment: '', Created: 1704067200, CreatedBy: '/bin/sh -c #(nop) ADD file:abc in / ', Id: '<missing>', Size: await unpackedSize(base), Tags: null },
    ].map((e) => Object.fromEntries(Object.keys(h[0]).map((k) => [k, (e as any)[k]]))));
    const cli = (await d.dockerOk(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'hist:1'])).split('\n');
    assert.deepEqual(cli.slice(0, 3), [`${id}|/bin/sh -c #(nop)  ENV X=1|0B|`, '<missing>|/bin/sh -c head -c 123456 /dev/urandom > /data/blob|123kB|a comment', '<missing>|/bin/sh -c #(nop)  CMD ["sh"]|0B|']);
    await d.dockerOk(['rmi', 'hist:1']);
  });

  test("history of a committed image names each step's image from the parent chain", async () => {
    const c1 = f.name('hist-c1');
    await d.dockerOk(['run', '--name', c1, 'busybox', 'sh', '-c', 'head -c 50000 /dev/zero > /one']);
    const middle = await d.dockerOk(['commit', '-m', 'first', c1]);
    const c2 = f.name('hist-c2');
    await d.dockerOk(['run', '--name', c2, middle, 'sh', '-c', 'head -c 70000 /dev/zero > /two']);
    const child = await d.dockerOk(['commit', c2, 'hist-child:1']);
    const busybox = await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox']);
    const h = (await d.api('GET', '/images/hist-child:1/history')).json;
    assert.deepEqual(h.map((e: any) => e.Id), [child, middle, busybox]);
    assert.deepEqual(h.map((e: any) => e.Tags), [['hist-child:1'], null, ['busybox:latest']]);
    assert.equal(h[1].Comment, 'first');
    assert.ok(h[0].Size >= 70000 && h[0].Size < 70000 + 8192, `${h[0].Size}`);
    assert.ok(h[1].Size >= 50000 && h[1].Size < 50000 + 8192, `${h[1].Size}`);
    await d.dockerOk(['rm', c1, c2]);
    await d.dockerOk(['rmi', 'hist-child:1']);
  });

  test("search with no index reachable: dockerd's 500 and words; its parameters checked first", async () => {
    const local = await d.docker(['search', '127.0.0.1:1/busybox']);
    assert.equal(local.code, 1);
    assert.equal(
      local.stderr.trim(),
      'Error response from daemon: invalid registry endpoint "http://127.0.0.1:1/v1/". HTTPS attempt: Get "https://127.0.0.1:1/v1/_ping": dial tcp 127.0.0.1:1: connect: connection refused. HTTP attempt: Get "http://127.0.0.1:1/v1/_ping": dial tcp 127.0.0.1:1: connect: connection refused',
    );
    const offline = await lookup('index.docker.io').then(() => false, () => true);
    if (offline) {
      const hub = await d.api('GET', '/images/search?term=busybox');
      assert.equal(hub.status, 500);
      assert.match(hub.json.message, /^Get "https:\/\/index\.docker\.io\/v1\/search\?q=busybox&n=25": dial tcp: lookup index\.docker\.io( on \S+)?: (no such host|Temporary failure in name resolution)$/);
    }
    const limit = await d.api('GET', '/images/search?term=busybox&limit=101');
    assert.deepEqual([limit.status, limit.json.message], [400, 'limit 101 is outside the range of [1, 100]']);
    const filter = await d.api('GET', `/images/search?term=busybox&filters=${encodeURIComponent('{"bogus":["1"]}')}`);
    assert.deepEqual([filter.status, filter.json.message], [400, "invalid filter 'bogus'"]);
    const automated = await d.api('GET', `/images/search?term=busybox&filters=${encodeURIComponent('{"is-automated":["true"]}')}`);
    assert.deepEqual([automated.status, automated.json], [200, []]);
  });
});
