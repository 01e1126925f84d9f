// docker save: the tarball is an OCI layout and a docker-archive at once (read by Debian's
// skopeo both ways), loads into a fresh daemon as the same image, holds several images with
// shared blobs once, and a missing name is Docker's 404.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { prepareFixtures, rawRequest, startDaemon, testRegistry, type Daemon } from './harness.js';
import { packToBuffer } from '../fixtures/image-archive.js';

const run = promisify(execFile);
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function skopeo(args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;
}

/** The tar's member names and the text of its JSON members. */
async function listing(tarPath: string): Promise<string[]> {
  return (await run('tar', ['-tf', tarPath])).stdout.trim().split('\n');
}
async function member(tarPath: string, name: string): Promise<any> {
  return JSON.parse((await run('tar', ['-xOf', tarPath, name], { maxBuffer: 64 << 20 })).stdout);
}

describe('docker save', () => {
  let d: Daemon;
  let registry: { host: string; stop(): Promise<void> };
  let dir: string;
  let busyboxId: string;

  before(async () => {
    registry = await testRegistry();
    d = await startDaemon();
    busyboxId = (await d.ensureBusybox()).imageId;
    dir = await mkdtemp('/tmp/bt-save-');
  });
  after(async () => {
    try {
      await d?.cleanup();
      await rm(dir, { recursive: true, force: true });
    } finally {
      await registry?.stop();
    }
  });

  test('docker save -o writes Docker 25+ layout that skopeo reads as docker-archive and as OCI', async () => {
    const out = join(dir, 'busybox.tar');
    await d.dockerOk(['save', '-o', out, 'busybox']);
    const names = await listing(out);
    for (const n of ['oci-layout', 'index.json', 'manifest.json', 'repositories']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    const manifest = await member(out, 'manifest.json');
    assert.equal(manifest.length, 1);
    assert.equal(manifest[0].Config, `blobs/sha256/${busyboxId.slice(7)}`);
    assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
    for (const l of manifest[0].Layers) assert.ok(names.includes(l), l);
    const index = await member(out, 'index.json');
    assert.equal(index.manifests.length, 1);
    assert.deepEqual(index.manifests[0].annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
    // moby's legacy file names the top layer by its diffID
    const diffIds: string[] = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'busybox']));
    assert.deepEqual(await member(out, 'repositories'), { busybox: { latest: diffIds.at(-1)!.slice(7) } });

    // the config skopeo reads is the image's own: its digest is the image ID
    const viaArchive = await skopeo(['inspect', '--raw', '--config', `docker-archive:${out}`]);
    assert.equal(sha256(viaArchive), busyboxId);
    const viaOci = await skopeo(['inspect', '--raw', '--config', `oci-archive:${out}:latest`]);
    assert.equal(sha256(viaOci), busyboxId);
    const info = JSON.parse(await skopeo(['inspect', `oci-archive:${out}:latest`]));
    assert.equal(info.Digest, index.manifests[0].digest);
    assert.equal(info.Layers.length, manifest[0].Layers.length);
  });

  test('two images in one save share blobs once and load into a fresh daemon as the same images', async () => {
    // a pulled image keeps gzip layers; a commit on top adds a plain-tar layer over them
    const pulled = `${registry.host}/busybox:latest`;
    await d.dockerOk(['pull', pulled], { timeoutMs: 120_000 });
    await d.dockerOk(['run', '--name', 'save-src', pulled, 'sh', '-c', 'echo saved-file > /marker']);
    await d.dockerOk(['commit', 'save-src', 'saved:1']);
    await d.dockerOk(['rm', 'save-src']);
    const pulledId = (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', pulled])).trim();
    const committedId = (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'saved:1'])).trim();

    const out = join(dir, 'two.tar');
    await d.dockerOk(['save', '-o', out, pulled, 'saved:1']);
    const names = await listing(out);
    assert.equal(new Set(names).size, names.length, 'every member once');
    const manifest = await member(out, 'manifest.json');
    assert.deepEqual(manifest.map((m: any) => m.RepoTags), [[pulled], ['saved:1']]);
    // the committed image stands on the pulled one's layers: the same blob paths
    assert.deepEqual(manifest[1].Layers.slice(0, manifest[0].Layers.length), manifest[0].Layers);
    const index = await member(out, 'index.json');
    assert.deepEqual(index.manifests.map((m: any) => m.annotations['io.containerd.image.name']), [pulled, 'docker.io/library/saved:1']);
    assert.equal(sha256(await skopeo(['inspect', '--raw', '--config', `docker-archive:${out}:@1`])), committedId);

    const fresh = await startDaemon();
    try {
      const loaded = await fresh.dockerOk(['load', '-i', out]);
      assert.match(loaded, new RegExp(`Loaded image: ${pulled.replace(/\./g, '\\.')}`));
      assert.match(loaded, /Loaded image: saved:1/);
      assert.equal((await fresh.dockerOk(['image', 'inspect', '-f', '{{.Id}}', pulled])).trim(), pulledId);
      assert.equal((await fresh.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'saved:1'])).trim(), committedId);
      assert.equal(await fresh.dockerOk(['run', '--rm', 'saved:1', 'cat', '/marker']), 'saved-file');
    } finally {
      await fresh.cleanup();
    }
  });

  test('a loaded docker-archive of gzip layers (no manifest pairs blob and diffID) saves, and loads elsewhere as the same image', async () => {
    const base = await readFile((await prepareFixtures()).rootfs);
    const top = await packToBuffer((pack) => {
      pack.entry({ name: 'etc/', type: 'directory', mode: 0o755, mtime: new Date(0) });
      pack.entry({ name: 'etc/second-layer', mode: 0o644, mtime: new Date(0) }, Buffer.from('two\n'));
    });
    const gz = [gzipSync(base), gzipSync(top)];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(base), sha256(top)] } }));
    const archive = await packToBuffer((pack) => {
      gz.forEach((g, i) => pack.entry({ name: `l${i}/layer.tar`, mode: 0o644 }, g));
      pack.entry({ name: 'config.json', mode: 0o644 }, config);
      pack.entry({ name: 'manifest.json', mode: 0o644 }, JSON.stringify([{ Config: 'config.json', RepoTags: ['gzarchive:v1'], Layers: ['l0/layer.tar', 'l1/layer.tar'] }]));
    });
    await d.dockerOk(['load'], { input: archive });
    try {
      const out = join(dir, 'gzarchive.tar');
      await d.dockerOk(['save', '-o', out, 'gzarchive:v1']);
      // the blobs go out as they were loaded: gzip, named by their own digests
      const manifest = await member(out, 'manifest.json');
      assert.deepEqual(manifest[0].Layers, gz.map((g) => `blobs/sha256/${sha256(g).slice(7)}`));
      const oci = await member(out, `blobs/sha256/${(await member(out, 'index.json')).manifests[0].digest.slice(7)}`);
      assert.deepEqual(oci.layers.map((l: any) => l.mediaType), Array(2).fill('application/vnd.oci.image.layer.v1.tar+gzip'));
      assert.equal(sha256(await skopeo(['inspect', '--raw', '--config', `docker-archive:${out}`])), sha256(config));
      const info = JSON.parse(await skopeo(['inspect', `oci-archive:${out}:v1`]));
      assert.deepEqual(info.Layers, gz.map(sha256));
      // a second save finds the diffIDs remembered (no manifest is kept for such an image)
      await d.dockerOk(['save', '-o', join(dir, 'gzarchive2.tar'), 'gzarchive:v1']);

      const fresh = await startDaemon();
      try {
        await fresh.dockerOk(['load', '-i', out]);
        assert.equal((await fresh.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'gzarchive:v1'])).trim(), sha256(config));
        assert.equal(await fresh.dockerOk(['run', '--rm', 'gzarchive:v1', 'cat', '/etc/second-layer']), 'two');
      } finally {
        await fresh.cleanup();
      }
    } finally {
      await d.dockerOk(['rmi', 'gzarchive:v1']);
    }
  });

  test('an image saved by ID has no tags; /images/get?names= serves the same layout', async () => {
    const byId = await d.api('GET', `/images/${busyboxId}/get`);
    assert.equal(byId.status, 200);
    const out = join(dir, 'byid.tar');
    await d.dockerOk(['save', '-o', out, busyboxId.slice(7, 19)]);
    const manifest = await member(out, 'manifest.json');
    assert.deepEqual(manifest[0].RepoTags, []);
    const index = await member(out, 'index.json');
    assert.equal(index.manifests[0].annotations, undefined);
    const viaQuery = await d.api('GET', `/images/get?names=${busyboxId}`);
    assert.equal(viaQuery.status, 200);
    assert.equal(viaQuery.headers['content-type'], 'application/x-tar');
    assert.ok(viaQuery.text.includes('oci-layout') && viaQuery.text.includes('manifest.json'));
  });

  test('a client that goes away stops the save, and an image removed meanwhile is freed', async () => {
    // a layer far larger than the socket buffers, so the save is still writing when the client leaves
    await d.dockerOk(['run', '--name', 'save-big', 'busybox', 'sh', '-c', 'head -c 16000000 /dev/urandom > /big']);
    await d.dockerOk(['commit', 'save-big', 'gone:1']);
    await d.dockerOk(['rm', 'save-big']);
    const diffIds: string[] = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'gone:1']));
    const bigBlob = join(d.dataRoot, 'content', 'blobs', 'sha256', diffIds.at(-1)!.slice(7));
    await access(bigBlob);

    const res = await rawRequest(d.socket, 'GET', '/images/gone:1/get');
    assert.equal(res.statusCode, 200);
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    // removed while the save holds its blobs: they stay for the save, then go with it
    await d.dockerOk(['rmi', 'gone:1']);
    res.destroy();
    let present = true;
    for (let i = 0; i < 100 && present; i++) {
      present = await access(bigBlob).then(() => true, () => false);
      if (present) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(present, false, 'the layer blob is removed once the save stopped');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('a bare repository name saves every tag of it', async () => {
    await d.dockerOk(['tag', 'busybox', 'repo-a:1']);
    await d.dockerOk(['tag', 'busybox', 'repo-a:2']);
    try {
      const out = join(dir, 'repo-a.tar');
      await d.dockerOk(['save', '-o', out, 'repo-a']);
      const manifest = await member(out, 'manifest.json');
      assert.equal(manifest.length, 1);
      assert.deepEqual([...manifest[0].RepoTags].sort(), ['repo-a:1', 'repo-a:2']);
      assert.deepEqual(Object.keys((await member(out, 'repositories'))['repo-a']).sort(), ['1', '2']);
    } finally {
      await d.dockerOk(['rmi', 'repo-a:1', 'repo-a:2']);
    }
  });

  test("a name that does not exist is a 404 with moby's text", async () => {
    const r = await d.docker(['save', '-o', join(dir, 'missing.tar'), 'busybox', 'no-such-image:v9']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'Error response from daemon: reference does not exist');
    const bare = await d.api('GET', '/images/get?names=busybox&names=no-such-image');
    assert.equal(bare.status, 404);
    assert.equal(bare.json.message, 'No such image: no-such-image');
    const id = await d.api('GET', '/images/0123456789ab/get');
    assert.equal(id.status, 404);
    assert.equal(id.json.message, 'No such image: 0123456789ab');
  });
});
