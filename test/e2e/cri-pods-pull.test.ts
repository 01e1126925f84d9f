// RunPodSandbox with the sandbox image absent: it is pulled as PullImage pulls, through the
// CRI's per-registry mirrors (registry.k8s.io/pause:3.10 served by a local registry).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { criClient, type CriClient } from '../fixtures/cri-client.js';
import { buildPauseImage, startCriDaemon } from '../fixtures/cri-pod-daemon.js';
import { startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import type { Daemon } from './harness.js';

const SANDBOX = 'registry.k8s.io/pause:3.10';

describe('CRI sandbox image pull', () => {
  let reg: RunningRegistry;
  let d: Daemon;
  let c: CriClient;
  let podId = '';
  let prefix = '';

  before(async () => {
    reg = await startRegistry();
    let base: string;
    ({ d, base, prefix } = await startCriDaemon({ 'sandbox-image': SANDBOX, 'registry-mirrors': { 'registry.k8s.io': [`http://${reg.host}`] } }));
    // the pause image goes to the registry under the mirror's name for it, and leaves the store
    const pushed = `${reg.host}/pause:3.10`;
    await buildPauseImage(d, base, pushed);
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
