// The CRI server itself: the socket (mode, group, stale file, shutdown), the runtime-info RPCs
// critest and kubelet call first (Version, Status with RuntimeClass handlers, RuntimeConfig,
// UpdateRuntimeConfig, ImageFsInfo), UNIMPLEMENTED for what no module serves, the config checks,
// and that a daemon without CRI has no socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { BERTH_BIN, recordRoot, runCommand, startDaemon, type Daemon } from './harness.js';
import { criClient, type CriClient } from '../fixtures/cri-client.js';

describe('cri runtime info', () => {
  let d: Daemon;
  let c: CriClient;
  let dir: string;

  before(async () => {
    dir = await mkdtemp('/tmp/bt-cfg-');
    const file = join(dir, 'daemon.json');
    await writeFile(file, JSON.stringify({ runtimes: { 'runc-alt': { path: 'runc' } }, cri: { 'pod-subnet': '10.223.0.0/16' } }));
    d = await startDaemon({ cri: true, args: ['--config-file', file] });
    c = criClient(d.criSocket);
  });

  after(async () => {
    c?.close();
    await d?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('Version: berth, v1', async () => {
    const v = await c.runtime.version({ version: 'v1' });
    assert.deepEqual(v, { version: '0.1.0', runtimeName: 'berth', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' });
  });

  test('Status: runtime and network ready; one handler per runtime plus the default ""', async () => {
    const s = await c.runtime.status({});
    const conds = Object.fromEntries(s.status.conditions.map((x: any) => [x.type, x.status]));
    assert.deepEqual(conds, { RuntimeReady: true, NetworkReady: true });
    assert.deepEqual(s.runtimeHandlers.map((h: any) => h.name ?? ''), ['', 'runc', 'runc-alt']);
    for (const h of s.runtimeHandlers) {
      // runc 1.1 has neither rro nor idmapped mounts: claiming them would fail critest's specs
      assert.ok(!h.features?.recursiveReadOnlyMounts);
      assert.ok(!h.features?.userNamespaces);
    }
    // src/cri/containers gives Strict its meaning and reports ContainerStatus.user
    assert.equal(s.features?.supplementalGroupsPolicy, true);
    assert.equal(s.info, undefined, 'info only when verbose');
  });

  test('RuntimeConfig: cgroupfs', async () => {
    assert.deepEqual(await c.runtime.runtimeConfig({}), { linux: { cgroupDriver: 'CGROUPFS' } });
  });

  test('UpdateRuntimeConfig stores the pod CIDR; a malformed one is INVALID_ARGUMENT', async () => {
    assert.deepEqual(await c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.244.1.0/24' } } }), {});
    const s = await c.runtime.status({ verbose: true });
    assert.equal(JSON.parse(s.info.config).podCidr, '10.244.1.0/24');
    // kubelet's empty CIDR changes nothing
    await c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '' } } });
    assert.equal(JSON.parse((await c.runtime.status({ verbose: true })).info.config).podCidr, '10.244.1.0/24');
    await assert.rejects(c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: 'nonsense' } } }), (e: any) => e.code === status.INVALID_ARGUMENT && /invalid pod CIDR/.test(e.details));
  });

  test('ImageFsInfo: the data root with used bytes and inodes', async () => {
    const r = await c.image.imageFsInfo({});
    assert.equal(r.imageFilesystems.length, 1);
    const fs = r.imageFilesystems[0];
    assert.equal(fs.fsId.mountpoint, d.dataRoot);
    assert.ok(BigInt(fs.timestamp) > 0n);
    assert.ok(BigInt(fs.usedBytes.value) >= 0n);
    assert.ok(BigInt(fs.inodesUsed.value) >= 0n);
  });

  test('an RPC no module serves is UNIMPLEMENTED, and the server carries on', async () => {
    await assert.rejects(c.runtime.checkpointContainer({ containerId: 'x' }), (e: any) => e.code === status.UNIMPLEMENTED);
    assert.equal((await c.runtime.version({})).runtimeName, 'berth');
    // the server-streaming one too (kubelet's evented PLEG falls back to polling on UNIMPLEMENTED)
    const events = (c.raw.runtime as any).getContainerEvents({});
    const err: any = await new Promise((resolve) => {
      events.on('error', resolve);
      events.on('data', () => undefined);
    });
    assert.equal(err.code, status.UNIMPLEMENTED);
  });

  test('the socket is 0660 with the daemon\'s socket group, as berth.sock', () => {
    const st = statSync(d.criSocket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, statSync(d.socket).gid);
  });

  test('a stale socket left by a killed daemon is replaced; SIGTERM removes it', async () => {
    c.close();
    await d.stop('SIGKILL');
    assert.ok(existsSync(d.criSocket), 'a killed daemon leaves its socket file');
    await d.start();
    c = criClient(d.criSocket);
    assert.equal((await c.runtime.version({})).runtimeApiVersion, 'v1');
    c.close();
    await d.stop('SIGTERM');
    assert.ok(!existsSync(d.criSocket), 'shutdown removes the socket');
    await d.start();
    c = criClient(d.criSocket);
  });
});

describe('cri off', () => {
  test('a daemon without --cri has no CRI socket', async () => {
    const d = await startDaemon();
    try {
      assert.ok(!existsSync(d.criSocket));
    } finally {
      await d.cleanup();
    }
  });

  test('a socket path from daemon.json, in a directory berth makes for it, opened to the socket group', async () => {
    const dir = await mkdtemp('/tmp/bt-cfg-');
    try {
      const socket = join(dir, 'k8s', 'cri.sock');
      const file = join(dir, 'daemon.json');
      await writeFile(file, JSON.stringify({ cri: { socket: `unix://${socket}` } }));
      // --cri by hand: the harness' `cri` option would clean pods up through the default socket
      const d = await startDaemon({ args: ['--config-file', file, '--cri'] });
      try {
        assert.ok(!existsSync(d.criSocket), 'not at the default path');
        const c = criClient(socket);
        try {
          assert.equal((await c.runtime.version({})).runtimeName, 'berth');
        } finally {
          c.close();
        }
        assert.equal(statSync(socket).mode & 0o777, 0o660);
        assert.equal(statSync(join(dir, 'k8s')).mode & 0o777, 0o710);
        assert.equal(statSync(join(dir, 'k8s')).gid, statSync(socket).gid);
      } finally {
        await d.cleanup();
      }
      assert.ok(!existsSync(socket), 'shutdown removes it');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bad cri block stops the daemon before it starts, in dockerd\'s words', async () => {
    const dir = await mkdtemp('/tmp/bt-');
    await recordRoot(dir);
    const file = join(dir, 'daemon.json');
    await writeFile(file, JSON.stringify({ cri: { enabled: 'yes' } }));
    const r = await runCommand(process.execPath, [BERTH_BIN, 'daemon', '--config-file', file, '-H', `unix://${dir}/s.sock`, '--data-root', `${dir}/d`, '--exec-root', `${dir}/e`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unable to configure the daemon with file .*: json: cannot unmarshal string into Go struct field Config\.cri\.enabled of type bool/);
    assert.ok(!existsSync(`${dir}/e/cri.sock`));
  });
});
