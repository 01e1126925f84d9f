// docker push to a Debian docker-registry of this file's own: the image comes back by pull with
// its ID, skopeo reads the manifest berth printed the digest of, a second push finds the layers
// by HEAD, another repository of the registry mounts them, plain layers (load, commit) are
// gzipped on the way, a layer past the chunk size goes in several PATCHes, all tags of a
// repository go with -a, a missing tag is Docker's error, and a registry killed mid-push is a
// clean error with nothing left in berth.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { gzipSync } from 'node:zlib';
import { BERTH_BIN, prepareFixtures, runCommand, startDaemon, testRegistry, type Daemon } from './harness.js';
import { packToBuffer } from '../fixtures/image-archive.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';

const run = promisify(execFile);
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function skopeo(args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;
}

function pushedDigest(out: string, tag: string): string {
  const m = new RegExp(`^${tag}: digest: (sha256:[a-f0-9]{64}) size: (\\d+)$`, 'm').exec(out);
  assert.ok(m, `no digest line for ${tag} in:\n${out}`);
  return m[1];
}

describe('docker push', () => {
  let d: Daemon;
  let reg: RunningRegistry;
  let dir: string;
  let busyboxId: string;

  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    busyboxId = (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    reg = await startRegistry();
    dir = await mkdtemp('/tmp/bt-push-');
  });
  after(async () => {
    try {
      await d?.cleanup();
      await rm(dir, { recursive: true, force: true });
    } finally {
      await reg?.stop();
    }
  });

  test('a loaded image (plain layer, gzipped on the way) pushes, comes back by pull with its ID, and skopeo reads the same manifest', async () => {
    const name = `${reg.host}/app:v1`;
    await d.dockerOk(['tag', 'busybox', name]);
    const out = await d.dockerOk(['push', name]);
    assert.match(out, new RegExp(`^The push refers to repository \\[${reg.host}/app\\]$`, 'm'));
    assert.match(out, /: Pushed$/m);
    const digest = pushedDigest(out, 'v1');

    // skopeo reads the manifest by the digest berth printed, and copies it byte for byte
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${name}`]);
    assert.equal(sha256(raw), digest);
    const manifest = JSON.parse(raw);
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(manifest.config.digest, busyboxId);
    assert.equal(manifest.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${name}`]));
    assert.equal(inspected.Digest, digest);
    const copy = join(dir, 'copy');
    await skopeo(['copy', '--quiet', '--insecure-policy', '--src-tls-verify=false', `docker://${name}`, `dir:${copy}`]);
    assert.equal(sha256(await readFile(join(copy, 'manifest.json'))), digest);
    // the layer is a gzip whose content is the image's diffID
    const diffIds: string[] = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', name]));
    const layer = await readFile(join(copy, manifest.layers[0].digest.slice(7)));
    assert.equal(sha256(layer), manifest.layers[0].digest);
    const { gunzipSync } = await import('node:zlib');
    assert.equal(sha256(gunzipSync(layer)), diffIds[0]);

    // Docker records the pushed digest as a RepoDigest
    const repoDigests: string[] = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .RepoDigests}}', name]));
    assert.ok(repoDigests.includes(`${reg.host}/app@${digest}`), repoDigests.join(' '));

    // rmi everything, pull it back: the same image
    await d.dockerOk(['rmi', '-f', busyboxId]);
    const pulled = await d.dockerOk(['pull', name]);
    assert.match(pulled, new RegExp(`Digest: ${digest}`));
    assert.equal((await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', name])).trim(), busyboxId);
    await d.dockerOk(['tag', name, 'busybox:latest']);
  });

  test('a second push finds the layers by HEAD; another repository of the registry mounts them', async () => {
    const name = `${reg.host}/app:v1`;
    const again = await d.dockerOk(['push', name]);
    assert.match(again, /: Layer already exists$/m);
    assert.doesNotMatch(again, /Pushed|Pushing/);
    const first = pushedDigest(again, 'v1');

    const other = `${reg.host}/team/other:v1`;
    await d.dockerOk(['tag', name, other]);
    const mounted = await d.dockerOk(['push', other]);
    assert.match(mounted, /: Mounted from app$/m);
    assert.doesNotMatch(mounted, /Pushed/);
    assert.equal(pushedDigest(mounted, 'v1'), first, 'same layers, same manifest');
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${other}`]);
    assert.equal(sha256(raw), first);
  });

  test('a pulled image pushed unchanged keeps its manifest digest', async () => {
    const src = await testRegistry();
    try {
      await d.dockerOk(['pull', `${src.host}/busybox:latest`]);
      const original = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${src.host}/busybox:latest`])).Digest;
      const name = `${reg.host}/pulled:latest`;
      await d.dockerOk(['tag', `${src.host}/busybox:latest`, name]);
      const out = await d.dockerOk(['push', name]);
      assert.equal(pushedDigest(out, 'latest'), original);
      await d.dockerOk(['rmi', `${src.host}/busybox:latest`, name]);
    } finally {
      await src.stop();
    }
  });

  test('a committed image: the base layer exists, the new one is gzipped and pushed; skopeo copies it back with the same digest', async () => {
    const c = 'push-commit';
    await d.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'echo committed > /hello']);
    const name = `${reg.host}/app:committed`;
    await d.dockerOk(['commit', c, name]);
    await d.dockerOk(['rm', c]);
    const out = await d.dockerOk(['push', name]);
    assert.match(out, /: Layer already exists$/m);
    assert.match(out, /: Pushed$/m);
    const digest = pushedDigest(out, 'committed');
    // as moby: every layer Preparing first, the top layer first, each named by its diffID
    const diffIds: string[] = JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', name]));
    const preparing = [...out.matchAll(/^([a-f0-9]{12}): Preparing$/gm)].map((m) => m[1]);
    assert.deepEqual(preparing, diffIds.map((x) => x.slice(7, 19)).reverse());
    // skopeo copies it to another repository without changing the manifest
    await skopeo(['copy', '--quiet', '--insecure-policy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${name}`, `docker://${reg.host}/copied:x`]);
    assert.equal(JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/copied:x`])).Digest, digest);
    // and a second push of the committed image finds the gzipped layer by the digest remembered
    const again = await d.dockerOk(['push', name]);
    assert.doesNotMatch(again, /Pushed/);
    assert.equal(pushedDigest(again, 'committed'), digest);
    await d.dockerOk(['rmi', name]);
  });

  test('a docker-archive of gzip layers (no manifest to pair them) pushes its blobs as they are', async () => {
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
      pack.entry({ name: 'manifest.json', mode: 0o644 }, JSON.stringify([{ Config: 'config.json', RepoTags: [`${reg.host}/gzarchive:v1`], Layers: ['l0/layer.tar', 'l1/layer.tar'] }]));
    });
    await d.dockerOk(['load'], { input: archive });
    const out = await d.dockerOk(['push', `${reg.host}/gzarchive:v1`]);
    const digest = pushedDigest(out, 'v1');
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/gzarchive:v1`]);
    assert.equal(sha256(raw), digest);
    assert.deepEqual(JSON.parse(raw).layers.map((l: { digest: string }) => l.digest), gz.map(sha256));
    await d.dockerOk(['rmi', `${reg.host}/gzarchive:v1`]);
  });

  test('a layer larger than one chunk goes in several PATCHes and arrives whole', async () => {
    const c = 'push-large';
    await d.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'head -c 70000000 /dev/urandom > /big'], { timeoutMs: 120_000 });
    const name = `${reg.host}/large:v1`;
    await d.dockerOk(['commit', c, name]);
    await d.dockerOk(['rm', c]);
    const out = await d.dockerOk(['push', name], { timeoutMs: 300_000 });
    const digest = pushedDigest(out, 'v1');
    const copy = join(dir, 'large');
    await skopeo(['copy', '--quiet', '--insecure-policy', '--src-tls-verify=false', `docker://${name}`, `dir:${copy}`]);
    assert.equal(sha256(await readFile(join(copy, 'manifest.json'))), digest);
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'));
    const top = manifest.layers.at(-1);
    assert.ok(top.size > 64 << 20, `layer of ${top.size} bytes is past one chunk`);
    assert.equal(sha256(await readFile(join(copy, top.digest.slice(7)))), top.digest);
    await rm(copy, { recursive: true, force: true });
  });

  test('a tag or a repository that does not exist locally is Docker\'s error', async () => {
    const none = await d.docker(['push', `${reg.host}/nothere:v1`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stdout + none.stderr, new RegExp(`An image does not exist locally with the tag: ${reg.host}/nothere`));
    const noTag = await d.docker(['push', `${reg.host}/app:nope`]);
    assert.notEqual(noTag.code, 0);
    assert.match(noTag.stdout + noTag.stderr, new RegExp(`tag does not exist: ${reg.host}/app:nope`));
    const bad = await d.api('POST', `/images/${encodeURIComponent('x/UPPER')}/push?tag=latest`, undefined, { headers: { 'X-Registry-Auth': 'e30=' } });
    assert.equal(bad.status, 400);
    // the stream as dockerd writes it: the repository line, then the error in-band
    const raw = await d.api('POST', `/images/${reg.host}/nothere/push?tag=v1`, undefined, { headers: { 'X-Registry-Auth': 'e30=' } });
    assert.equal(raw.status, 200);
    const msg = `An image does not exist locally with the tag: ${reg.host}/nothere`;
    assert.deepEqual(raw.text.trim().split(/\r?\n/).map((l) => JSON.parse(l)), [{ status: `The push refers to repository [${reg.host}/nothere]` }, { errorDetail: { message: msg }, error: msg }]);
    // without X-Registry-Auth or an auth body, moby's 400
    const noAuth = await d.api('POST', `/images/${reg.host}/app/push?tag=v1`);
    assert.equal(noAuth.status, 400);
    assert.match(noAuth.text, /bad parameters and missing X-Registry-Auth/);
  });

  test('push -a pushes every tag of the repository, in name order', async () => {
    const repo = `${reg.host}/multi`;
    await d.dockerOk(['tag', 'busybox', `${repo}:b`]);
    await d.dockerOk(['tag', 'busybox', `${repo}:a`]);
    const out = await d.dockerOk(['push', '-a', repo]);
    const a = pushedDigest(out, 'a');
    assert.equal(pushedDigest(out, 'b'), a);
    assert.ok(out.indexOf('a: digest') < out.indexOf('b: digest'));
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${repo}`])).Tags.sort();
    assert.deepEqual(tags, ['a', 'b']);
    // the push event names the repository
    const since = Math.floor(Date.now() / 1000) - 120;
    const ev = await d.api('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ event: ['push'] }))}`);
    assert.match(ev.text, new RegExp(`"id":"${repo.replace(/\./g, '\\.')}"`));
    await d.dockerOk(['rmi', `${repo}:a`, `${repo}:b`]);
  });

  test('berth push prints the progress as plain lines off a terminal; -q only the name; a missing repository fails', async () => {
    const berth = (args: string[]) => runCommand(process.execPath, [BERTH_BIN, '-H', `unix://${d.socket}`, ...args], { timeoutMs: 60_000 });
    await d.dockerOk(['tag', 'busybox', `${reg.host}/cli:v1`]);
    const r = await berth(['push', `${reg.host}/cli:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/cli\\]$`, 'm'));
    assert.match(r.stdout, /^[a-f0-9]{12}: (Mounted from [a-z/]+|Layer already exists)$/m);
    pushedDigest(r.stdout, 'v1');
    const q = await berth(['push', '-q', `${reg.host}/cli:v1`]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout, `${reg.host}/cli:v1\n`);
    const none = await berth(['push', `${reg.host}/nothere:v1`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`An image does not exist locally with the tag: ${reg.host}/nothere`));
    await d.dockerOk(['rmi', `${reg.host}/cli:v1`]);
  });

  test('dockerode image.push streams the progress and the aux digest', async () => {
    const docker = new Docker({ socketPath: d.socket });
    await d.dockerOk(['tag', 'busybox', `${reg.host}/dockerode:v1`]);
    // dockerode sends X-Registry-Auth only with an authconfig, which dockerd requires
    const stream = await docker.getImage(`${reg.host}/dockerode`).push({ tag: 'v1', authconfig: {} });
    const events: any[] = await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, res: any[]) => (err ? reject(err) : resolve(res))));
    const aux = events.find((e) => e.aux)?.aux;
    assert.equal(aux?.Tag, 'v1');
    assert.match(aux?.Digest ?? '', /^sha256:[a-f0-9]{64}$/);
    assert.ok(aux.Size > 0);
    await d.dockerOk(['rmi', `${reg.host}/dockerode:v1`]);
  });

  test('a client that leaves mid-push stops it; the next push of the image completes', async () => {
    const name = `${reg.host}/large:v1`;
    // a registry of its own, so the large layer is uploaded, not mounted
    const other = await startRegistry();
    try {
      await d.dockerOk(['tag', name, `${other.host}/left:v1`]);
      const res = await d.stream('POST', `/images/${encodeURIComponent(`${other.host}/left`)}/push?tag=v1`, undefined, { timeoutMs: 120_000, headers: { 'X-Registry-Auth': 'e30=' } });
      let text = '';
      for await (const chunk of res) {
        text += chunk.toString();
        if (/"status":"Pushing","progressDetail":\{"current":[1-9]/.test(text)) break;
      }
      res.destroy();
      assert.match(text, /"status":"Pushing"/, 'the push was under way when the client left');
      assert.doesNotMatch(text, /digest: sha256/);
      const again = await d.dockerOk(['push', `${other.host}/left:v1`], { timeoutMs: 300_000 });
      const digest = pushedDigest(again, 'v1');
      assert.equal(JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${other.host}/left:v1`])).Digest, digest);
      assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'ingest')), []);
      await d.dockerOk(['rmi', `${other.host}/left:v1`]);
    } finally {
      await other.stop();
    }
  });

  test('the registry killed mid-push: a clean error, no RepoDigest, nothing half-stored, the daemon goes on', async () => {
    const doomed = await startRegistry();
    const c = 'push-doomed';
    await d.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'head -c 40000000 /dev/urandom > /big'], { timeoutMs: 120_000 });
    const name = `${doomed.host}/doomed:v1`;
    await d.dockerOk(['commit', c, name]);
    await d.dockerOk(['rm', c]);
    const before = await d.dockerOk(['image', 'inspect', name]);
    try {
      const res = await d.stream('POST', `/images/${encodeURIComponent(`${doomed.host}/doomed`)}/push?tag=v1`, undefined, { timeoutMs: 120_000, headers: { 'X-Registry-Auth': 'e30=' } });
      assert.equal(res.statusCode, 200);
      let text = '';
      let killed = false;
      for await (const chunk of res) {
        text += chunk.toString();
        if (!killed && /"status":"Pushing","progressDetail":\{"current":[1-9]/.test(text)) {
          killed = true;
          await doomed.stop();
        }
      }
      assert.ok(killed, `never saw Pushing progress: ${text}`);
      const last = JSON.parse(text.trim().split('\n').at(-1)!);
      assert.ok(last.error, `the stream ends with an error: ${text.slice(-500)}`);
    } finally {
      await doomed.stop();
    }
    assert.equal(await d.dockerOk(['image', 'inspect', name]), before, 'no RepoDigest was added');
    assert.deepEqual(await readdir(join(d.dataRoot, 'content', 'ingest')), []);
    assert.equal((await d.api('GET', '/_ping')).status, 200);
    await d.dockerOk(['rmi', name]);
  });
});

