// CRI ImageService against Debian's docker-registry on 127.0.0.1: pulls (direct, through a
// per-registry mirror, with credentials, under a 1 ms deadline, cancelled), ImageStatus by every
// kind of name, ListImages, RemoveImage (by id, by tag, idempotent), ImageFsInfo, uid/username,
// and the one store shared with the Docker API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { Daemon, prepareFixtures, recordRoot, recordedRoots } from './harness.js';
import { daemonNet } from './net-harness.js';
import { criClient, type CriClient } from '../fixtures/cri-client.js';
import { writeOciLayout } from '../fixtures/image-archive.js';
import { pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { startHtpasswdRegistry } from '../fixtures/auth-registry.js';
import { startRegistryProxy, type RegistryProxy } from '../fixtures/registry-proxy.js';

const ZEROS = '0'.repeat(64);
const SANDBOX = 'registry.k8s.io/e2e/pause:1';

describe('cri images', () => {
  let reg: RunningRegistry;
  let authReg: RunningRegistry;
  let proxy: RegistryProxy;
  let d: Daemon;
  let c: CriClient;
  let work: string;
  let busyboxId: string;
  let heldBlob: string;
  const userImages: Record<string, string> = { u1002: '1002', uname: 'www-data', ugroup: '1003:1004', unamegroup: 'www-data:1004' };

  before(async () => {
    const fx = await prepareFixtures();
    const rootfs = await readFile(fx.rootfs);
    work = await mkdtemp('/tmp/bt-cri-img-');
    reg = await startRegistry();
    const plain = await writeOciLayout(rootfs, join(work, 'plain'));
    busyboxId = plain.configDigest;
    for (const tag of ['1.0', 'latest', 'a', 'b', 'c']) await pushImage(reg.host, join(work, 'plain'), `e2e/busybox:${tag}`);
    for (const [name, user] of Object.entries(userImages)) {
      await writeOciLayout(rootfs, join(work, name), undefined, { config: { User: user } });
      await pushImage(reg.host, join(work, name), `e2e/${name}:1`);
    }
    // a distinct image (its own config) for the cancelled pull, behind a proxy that can hold its layer
    const slow = await writeOciLayout(rootfs, join(work, 'slow'), undefined, { config: { Labels: { slow: '1' } } });
    await pushImage(reg.host, join(work, 'slow'), 'e2e/slow:1');
    // its layer is busybox's (already present when it is pulled): its own config is what is fetched
    heldBlob = slow.configDigest;
    proxy = await startRegistryProxy(reg.host);
    authReg = await startHtpasswdRegistry({ alice: 's3cret' });
    await pushImage(authReg.host, join(work, 'ugroup'), 'private/img:1', 'alice:s3cret');
    // the sandbox image too comes through the mirror (pods pull it with ctx.pullImage)
    await writeOciLayout(rootfs, join(work, 'pause'), undefined, { config: { Entrypoint: ['sleep', '3600'], Cmd: null } });
    await pushImage(reg.host, join(work, 'pause'), 'e2e/pause:1');
    const base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    // a pod network inside this daemon's own /16, should a pod need one (as cri-pods does)
    const net = daemonNet(base, await recordedRoots());
    const podSubnet = `${net.pool.split('.').slice(0, 2).join('.')}.240.0/20`;
    d = new Daemon(base, { cri: { 'registry-mirrors': { 'registry.k8s.io': [`http://${reg.host}`] }, 'sandbox-image': SANDBOX, 'pod-subnet': podSubnet } });
    await mkdir(d.dockerConfig, { recursive: true });
    await d.start();
    c = criClient(d.criSocket);
  });

  after(async () => {
    c?.close();
    await d?.cleanup();
    await proxy?.stop();
    await reg?.stop();
    await authReg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const status_ = (image: string) => c.image.imageStatus({ image: { image } });

  test('PullImage: the config digest as image_ref; ImageStatus by tag, fully qualified; the Docker API sees it', async () => {
    const name = `${reg.host}/e2e/busybox:1.0`;
    const pulled = await c.image.pullImage({ image: { image: name } });
    assert.equal(pulled.imageRef, busyboxId);
    const s = await status_(name);
    assert.equal(s.image.id, busyboxId);
    assert.deepEqual(s.image.repoTags, [name]);
    assert.equal(s.image.repoDigests.length, 1);
    assert.match(s.image.repoDigests[0], new RegExp(`^${reg.host.replace(/\./g, '\\.')}/e2e/busybox@sha256:[a-f0-9]{64}$`));
    assert.ok(BigInt(s.image.size) > 0n);
    assert.equal(s.image.spec.image, busyboxId);
    assert.equal(s.image.uid, undefined);
    assert.equal(s.image.username ?? '', '');
    // one store: `docker images` lists what CRI pulled
    const docker = await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(docker, new RegExp(`${reg.host.replace(/\./g, '\\.')}/e2e/busybox:1\\.0 ${busyboxId.slice(7, 19)}`));
  });

  test('a pull through the registry.k8s.io mirror is recorded under registry.k8s.io', async () => {
    const name = 'registry.k8s.io/e2e/busybox:1.0';
    assert.equal((await c.image.pullImage({ image: { image: name } })).imageRef, busyboxId);
    const s = await status_(name);
    assert.ok(s.image.repoTags.includes(name));
    assert.ok(s.image.repoDigests.some((x: string) => x.startsWith('registry.k8s.io/e2e/busybox@sha256:')));
    // Docker's own pulls do not use CRI's mirrors
    const r = await d.api('POST', `/images/create?fromImage=registry.k8s.io/e2e/busybox&tag=a`, undefined, { timeoutMs: 60_000 });
    assert.ok(r.status !== 200 || /error/i.test(r.text), `a Docker pull of registry.k8s.io must not reach the mirror: ${r.status} ${r.text.slice(0, 200)}`);
  });

  test('a name without a tag is :latest', async () => {
    await c.image.pullImage({ image: { image: 'registry.k8s.io/e2e/busybox' } });
    const s = await status_('registry.k8s.io/e2e/busybox');
    assert.ok(s.image.repoTags.includes('registry.k8s.io/e2e/busybox:latest'));
  });

  test('ImageStatus by id (with and without sha256:), by each tag and each digest gives the same image', async () => {
    const byId = (await status_(busyboxId)).image;
    assert.ok(byId);
    assert.deepEqual((await status_(busyboxId.slice(7))).image, byId);
    for (const t of byId.repoTags) assert.deepEqual((await status_(t)).image, byId, t);
    for (const dg of byId.repoDigests) assert.deepEqual((await status_(dg)).image, byId, dg);
  });

  test('short names are normalised: busybox is docker.io/library/busybox:latest', async () => {
    await d.ensureBusybox();
    const s = await status_('busybox');
    assert.ok(s.image.repoTags.includes('docker.io/library/busybox:latest'));
    assert.deepEqual((await status_('docker.io/library/busybox:latest')).image, s.image);
  });

  test('ImageStatus of an absent image is OK without an image; bad names are INVALID_ARGUMENT', async () => {
    const s = await status_('registry.k8s.io/never/pulled:1');
    assert.equal(s.image, undefined);
    assert.equal((await status_(`sha256:${ZEROS}`)).image, undefined);
    await assert.rejects(status_('UPPERCASE:1'), (e: any) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(c.image.imageStatus({}), (e: any) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(c.image.pullImage({ image: { image: '' } }), (e: any) => e.code === status.INVALID_ARGUMENT);
  });

  test('uid and username come from the image\'s USER', async () => {
    const expect: Record<string, { uid?: string; username: string }> = {
      u1002: { uid: '1002', username: '' },
      uname: { username: 'www-data' },
      ugroup: { uid: '1003', username: '' },
      unamegroup: { username: 'www-data' },
    };
    for (const [name, want] of Object.entries(expect)) {
      const ref = `registry.k8s.io/e2e/${name}:1`;
      await c.image.pullImage({ image: { image: ref } });
      const img = (await status_(ref)).image;
      assert.equal(img.uid?.value, want.uid, name);
      assert.equal(img.username ?? '', want.username, name);
    }
  });

  test('three tags of one image: one id carrying all three; RemoveImage by id takes every tag', async () => {
    const names = ['a', 'b', 'c'].map((t) => `registry.k8s.io/e2e/busybox:${t}`);
    for (const n of names) await c.image.pullImage({ image: { image: n } });
    const list = (await c.image.listImages({})).images;
    const img = list.find((i: any) => i.id === busyboxId);
    for (const n of names) assert.ok(img.repoTags.includes(n), n);
    const filtered = (await c.image.listImages({ filter: { image: { image: names[0] } } })).images;
    assert.deepEqual(filtered.map((i: any) => i.id), [busyboxId]);
    assert.deepEqual((await c.image.listImages({ filter: { image: { image: 'registry.k8s.io/none:1' } } })).images ?? [], []);
    await c.image.removeImage({ image: { image: busyboxId } });
    for (const n of names) assert.equal((await status_(n)).image, undefined, n);
    assert.equal((await status_(busyboxId)).image, undefined);
    const docker = await d.dockerOk(['images', '-q', '--no-trunc']);
    assert.ok(!docker.includes(busyboxId), 'gone from docker images too');
  });

  test('RemoveImage by tag removes that tag only', async () => {
    const a = 'registry.k8s.io/e2e/busybox:a';
    const b = 'registry.k8s.io/e2e/busybox:b';
    await c.image.pullImage({ image: { image: a } });
    await c.image.pullImage({ image: { image: b } });
    await c.image.removeImage({ image: { image: a } });
    assert.equal((await status_(a)).image, undefined);
    assert.ok((await status_(b)).image.repoTags.includes(b));
    // the last tag takes the image with it
    await c.image.removeImage({ image: { image: b } });
    assert.equal((await status_(busyboxId)).image, undefined);
  });

  test('RemoveImage is idempotent: an unknown id, twice', async () => {
    assert.deepEqual(await c.image.removeImage({ image: { image: ZEROS } }), {});
    assert.deepEqual(await c.image.removeImage({ image: { image: ZEROS } }), {});
    assert.deepEqual(await c.image.removeImage({ image: { image: 'registry.k8s.io/never/pulled:1' } }), {});
  });

  test('an image a running Docker container uses is not removed: FAILED_PRECONDITION', async () => {
    await d.ensureBusybox();
    const id = (await status_('busybox')).image.id;
    const ctr = await d.dockerOk(['run', '-d', 'busybox', 'sleep', '300']);
    try {
      await assert.rejects(c.image.removeImage({ image: { image: id } }), (e: any) => e.code === status.FAILED_PRECONDITION && /running container/.test(e.details));
      assert.ok((await status_('busybox')).image);
    } finally {
      await d.dockerOk(['rm', '-f', ctr]);
    }
  });

  test('ImageFsInfo counts the store\'s bytes and inodes', async () => {
    const fs = (await c.image.imageFsInfo({})).imageFilesystems[0];
    assert.equal(fs.fsId.mountpoint, d.dataRoot);
    assert.ok(BigInt(fs.usedBytes.value) > 0n);
    assert.ok(BigInt(fs.inodesUsed.value) > 0n);
  });

  test('credentials: refused without them, pulled with username/password and with auth', async () => {
    const name = `${authReg.host}/private/img:1`;
    await assert.rejects(c.image.pullImage({ image: { image: name } }), (e: any) => e.code !== status.OK && /auth|denied|unauthorized/i.test(e.details));
    // credentials meant for another server are not sent
    await assert.rejects(c.image.pullImage({ image: { image: name }, auth: { username: 'alice', password: 's3cret', serverAddress: 'elsewhere.example' } }));
    await c.image.pullImage({ image: { image: name }, auth: { username: 'alice', password: 's3cret', serverAddress: authReg.host } });
    assert.ok((await status_(name)).image.repoTags.includes(name));
    await c.image.removeImage({ image: { image: name } });
    await c.image.pullImage({ image: { image: name }, auth: { auth: Buffer.from('alice:s3cret').toString('base64') } });
    assert.ok((await status_(name)).image);
    await assert.rejects(c.image.pullImage({ image: { image: name }, auth: { username: 'alice', password: 'wrong' } }));
  });

  test('a 1 ms deadline is DEADLINE_EXCEEDED, even for an image already here', async () => {
    const name = `${reg.host}/e2e/busybox:1.0`;
    await c.image.pullImage({ image: { image: name } });
    await assert.rejects(c.image.pullImage({ image: { image: name } }, { deadline: Date.now() + 1 }), (e: any) => e.code === status.DEADLINE_EXCEEDED);
    assert.equal((await c.runtime.version({})).runtimeName, 'berth');
  });

  test('a cancelled pull stops; the next one completes', async () => {
    const name = `${proxy.host}/e2e/slow:1`;
    proxy.hold(heldBlob, 16);
    const ac = new AbortController();
    const pull = c.image.pullImage({ image: { image: name } }, { signal: ac.signal });
    await proxy.reached(heldBlob);
    ac.abort();
    await assert.rejects(pull, (e: any) => e.code === status.CANCELLED);
    proxy.drop(heldBlob);
    assert.equal((await status_(name)).image, undefined);
    const done = await c.image.pullImage({ image: { image: name } });
    assert.equal((await status_(name)).image.id, done.imageRef);
  });

  test('RunPodSandbox pulls the sandbox image through the same mirror, under its own name', async () => {
    assert.equal((await status_(SANDBOX)).image, undefined);
    const config = { metadata: { name: 'mirror-pod', uid: 'uid-mirror-pod', namespace: 'default' }, linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } };
    const { podSandboxId } = await c.runtime.runPodSandbox({ config });
    try {
      const img = (await status_(SANDBOX)).image;
      assert.ok(img.repoTags.includes(SANDBOX));
      // the sandbox image is pinned (kubelet's image GC leaves it), as containerd's is
      assert.equal(img.pinned, true);
    } finally {
      await c.runtime.stopPodSandbox({ podSandboxId });
      await c.runtime.removePodSandbox({ podSandboxId });
    }
  });

  test('an image a CRI container uses is removed as containerd does: the container still starts and runs', async () => {
    const ref = 'registry.k8s.io/e2e/busybox:inuse';
    await pushImage(reg.host, join(work, 'plain'), 'e2e/busybox:inuse');
    const { imageRef } = await c.image.pullImage({ image: { image: ref } });
    const config = { metadata: { name: 'inuse-pod', uid: 'uid-inuse-pod', namespace: 'default' }, linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } };
    const { podSandboxId } = await c.runtime.runPodSandbox({ config });
    try {
      const { containerId } = await c.runtime.createContainer({
        podSandboxId,
        config: { metadata: { name: 'user' }, image: { image: ref }, command: ['sleep', '300'] },
        sandboxConfig: config,
      });
      await c.image.removeImage({ image: { image: imageRef } });
      assert.equal((await status_(ref)).image, undefined);
      await c.runtime.startContainer({ containerId });
      const r = await c.runtime.execSync({ containerId, cmd: ['echo', 'still here'], timeout: '10' });
      assert.equal(Buffer.from(r.stdout).toString(), 'still here\n');
      const st = (await c.runtime.containerStatus({ containerId })).status;
      assert.equal(st.imageRef, imageRef);
    } finally {
      await c.runtime.stopPodSandbox({ podSandboxId });
      await c.runtime.removePodSandbox({ podSandboxId });
    }
  });

  test('a pull that gets nothing for image-pull-progress-timeout is cancelled with a clear error', async () => {
    const base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    const d2 = new Daemon(base, { cri: { 'image-pull-progress-timeout': '2s' } });
    await mkdir(d2.dockerConfig, { recursive: true });
    await d2.start();
    const c2 = criClient(d2.criSocket);
    try {
      const name = `${proxy.host}/e2e/slow:1`;
      proxy.hold(heldBlob, 16);
      await assert.rejects(c2.image.pullImage({ image: { image: name } }), (e: any) => e.code === status.UNKNOWN && /without progress \(cri image-pull-progress-timeout\)/.test(e.details));
      proxy.drop(heldBlob);
      assert.equal((await c2.image.imageStatus({ image: { image: name } })).image, undefined);
      // the next pull, with the registry answering, completes
      assert.ok((await c2.image.pullImage({ image: { image: name } })).imageRef);
    } finally {
      c2.close();
      await d2.cleanup();
    }
  });

  test('PullImage always asks the registry: with it gone, a pull of a present image fails', async () => {
    const name = `${reg.host}/e2e/busybox:1.0`;
    await c.image.pullImage({ image: { image: name } });
    await reg.stop();
    await assert.rejects(c.image.pullImage({ image: { image: name } }), (e: any) => e.code !== status.OK);
    // still there for ImageStatus
    assert.ok((await status_(name)).image);
  });
});
