// RunPodSandbox with the sandbox image absent: it is pulled as PullImage pulls, through the
// CRI's per-registry mirrors (registry.k8s.io/pause:3.10 served by a local registry).
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { criClient, type CriClient } from '../fixtures/cri-client.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { Daemon, recordRoot, recordedRoots } from './harness.js';
import { daemonNet } from './net-harness.js';

const SANDBOX = 'registry.k8s.io/pause:3.10';

describe('CRI sandbox image pull', () => {
  let reg: RunningRegistry;
  let d: Daemon;
  let c: CriClient;
  let podId = '';
  let prefix = '';

  before(async () => {
    reg = await startRegistry();
    const base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    const net = daemonNet(base, await recordedRoots());
    prefix = net.pool.split('.').slice(0, 2).join('.');
    const file = join(base, 'daemon.json');
    const cri = { 'sandbox-image': SANDBOX, 'registry-mirrors': { 'registry.k8s.io': [`http://${reg.host}`] }, 'pod-subnet': `${net.pool.split('.').slice(0, 2).join('.')}.240.0/20` };
    await writeFile(file, JSON.stringify({ cri }));
    d = new Daemon(base, { args: ['--config-file', file], cri: true });
    await mkdir(d.dockerConfig, { recursive: true });
    await d.start();
    await d.ensureBusybox();
    // the pause image goes to the registry under the mirror's name for it, and leaves the store
    const ctx = join(base, 'pause-ctx');
    await mkdir(ctx);
    await copyFile('/usr/bin/catatonit', join(ctx, 'catatonit'));
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox:latest\nCOPY catatonit /catatonit\nENTRYPOINT ["/catatonit", "-P"]\n');
    const pushed = `${reg.host}/pause:3.10`;
    await d.dockerOk(['build', '-q', '-t', pushed, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    await d.dockerOk(['push', '-q', pushed], { timeoutMs: 60_000 });
    await d.dockerOk(['rmi', pushed]);
    c = criClient(d.criSocket);
  });

  after(async () => {
    if (podId) await c?.runtime.removePodSandbox({ podSandboxId: podId }).catch(() => undefined);
    c?.close();
    await d?.cleanup();
    await reg?.stop();
  });

  test('an absent sandbox image is pulled through the registry.k8s.io mirror, then the pod runs', async () => {
    assert.equal((await c.image.imageStatus({ image: { image: SANDBOX } })).image, undefined);
    podId = (await c.runtime.runPodSandbox({ config: { metadata: { name: 'pulled', uid: 'u', namespace: 'default' } } })).podSandboxId;
    const s = (await c.runtime.podSandboxStatus({ podSandboxId: podId })).status;
    assert.equal(s.state ?? 'SANDBOX_READY', 'SANDBOX_READY');
    const img = (await c.image.imageStatus({ image: { image: SANDBOX } })).image;
    assert.ok(img.repoTags.includes(SANDBOX), JSON.stringify(img.repoTags));
  });

  test("kubelet's pod CIDR (UpdateRuntimeConfig) becomes the pod network's subnet once no pod uses the old one", async () => {
    assert.ok((await c.runtime.podSandboxStatus({ podSandboxId: podId })).status.network.ip.startsWith(`${prefix}.24`));
    await c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: `${prefix}.250.0/24` } } });
    await c.runtime.removePodSandbox({ podSandboxId: podId });
    podId = (await c.runtime.runPodSandbox({ config: { metadata: { name: 'cidr', uid: 'u', namespace: 'default' } } })).podSandboxId;
    assert.ok((await c.runtime.podSandboxStatus({ podSandboxId: podId })).status.network.ip.startsWith(`${prefix}.250.`));
  });
});
