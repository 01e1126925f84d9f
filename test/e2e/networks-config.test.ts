// Addresses as the daemon's configuration and the host's routes decide them (issue 9 item 3):
// daemon.json's bip and mtu (the harness' own --default-address-pool flag gives the pool; daemon.json's
// pools are read by the unit test networks-ipam), and subnets that skip a host route.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Daemon, recordedRoots, recordRoot } from './harness.js';
import { daemonNet } from './net-harness.js';

const run = promisify(execFile);

describe('networks: daemon.json bip, bridge and mtu; host routes', () => {
  let d: Daemon;
  let octet: string;
  let bridge: string;
  let blackhole = '';
  let config: string;
  const daemonJson = (mtu: number) => ({ bip: `10.${octet}.200.1/24`, bridge, mtu, 'default-address-pools': [{ base: `10.${octet}.0.0/16`, size: 24 }] });

  before(async () => {
    const base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    // the harness' pool for this daemon, used here through daemon.json instead of flags
    const net = daemonNet(base, await recordedRoots());
    octet = net.pool.split('.')[1];
    bridge = `${net.bridge.slice(0, 12)}cfg`;
    config = join(base, 'daemon.json');
    await writeFile(config, JSON.stringify(daemonJson(9000)));
    // flags win over daemon.json: the harness' --bridge/--default-address-pool are overridden by ours
    d = new Daemon(base, { args: ['--config-file', config, '--bridge', bridge] });
    await mkdir(d.dockerConfig, { recursive: true });
    await d.start();
    await d.ensureBusybox();
  });

  after(async () => {
    if (blackhole) await run('ip', ['route', 'del', 'blackhole', blackhole]).catch(() => undefined);
    await d.cleanup();
  });

  test('bip and bridge shape the default bridge', async () => {
    const [bridgeNet] = JSON.parse(await d.dockerOk(['network', 'inspect', 'bridge']));
    assert.deepEqual(bridgeNet.IPAM.Config, [{ Subnet: `10.${octet}.200.0/24`, Gateway: `10.${octet}.200.1` }]);
    assert.equal(bridgeNet.Options['com.docker.network.bridge.name'], bridge);
    const out = await d.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route | grep default']);
    assert.match(out, new RegExp(`inet 10\\.${octet}\\.200\\.2/24`));
    assert.match(out, new RegExp(`default via 10\\.${octet}\\.200\\.1`));
  });

  test('mtu is the MTU of the default bridge\'s containers, not of user-defined networks', async () => {
    const [bridgeNet] = JSON.parse(await d.dockerOk(['network', 'inspect', 'bridge']));
    assert.equal(bridgeNet.Options['com.docker.network.driver.mtu'], '9000');
    assert.match(await d.dockerOk(['run', '--rm', 'busybox', 'cat', '/sys/class/net/eth0/mtu']), /^9000\s*$/);
    // as in moby: the daemon's mtu is the default bridge's only
    await d.dockerOk(['network', 'create', 'nc-mtu']);
    try {
      assert.match(await d.dockerOk(['run', '--rm', '--network', 'nc-mtu', 'busybox', 'cat', '/sys/class/net/eth0/mtu']), /^1500\s*$/);
    } finally {
      await d.docker(['network', 'rm', 'nc-mtu']);
    }
  });

  test('a new network skips subnets routed on the host and the other networks\' subnets', async () => {
    // the pool's first /24 is routed elsewhere (a VPN, say)
    blackhole = `10.${octet}.0.0/24`;
    await run('ip', ['route', 'add', 'blackhole', blackhole]);
    await d.dockerOk(['network', 'create', 'nc-one']);
    await d.dockerOk(['network', 'create', 'nc-two']);
    try {
      const subnets = JSON.parse(await d.dockerOk(['network', 'inspect', 'nc-one', 'nc-two'])).map((n: any) => n.IPAM.Config[0].Subnet);
      assert.deepEqual(subnets, [`10.${octet}.1.0/24`, `10.${octet}.2.0/24`]);
    } finally {
      await d.docker(['network', 'rm', 'nc-one', 'nc-two']);
    }
  });

  test('a changed mtu reaches the default bridge at the next start with no container on it; a running container keeps its own', async () => {
    const mtuOf = async () => JSON.parse(await d.dockerOk(['network', 'inspect', 'bridge']))[0].Options['com.docker.network.driver.mtu'];
    const id = (await d.dockerOk(['run', '-d', 'busybox', 'sleep', '300'])).trim();
    try {
      await writeFile(config, JSON.stringify(daemonJson(1400)));
      await d.restart();
      // moby remakes its default bridge at each start; berth cannot under a running container
      assert.equal(await mtuOf(), '9000');
      assert.match(await d.dockerOk(['exec', id, 'cat', '/sys/class/net/eth0/mtu']), /^9000\s*$/);
      assert.match(await d.log(), /running containers use the default bridge/);
    } finally {
      await d.docker(['rm', '-f', id]);
    }
    await d.restart();
    assert.equal(await mtuOf(), '1400');
    assert.match(await d.dockerOk(['run', '--rm', 'busybox', 'cat', '/sys/class/net/eth0/mtu']), /^1400\s*$/);
  });
});
