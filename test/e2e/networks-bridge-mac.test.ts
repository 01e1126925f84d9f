// A network's bridge keeps its MAC while containers come and go (as libnetwork's bridges do).
// Without a fixed MAC the kernel gives the bridge its lowest port's, so restarting one container
// could change it and leave the others' ARP entry for the gateway stale: docker-compose's
// `restart web` then left `client` unable to resolve `web` through 127.0.0.11.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { daemonForFile, type Daemon } from './harness.js';

describe('network bridge MAC', () => {
  const f = daemonForFile();
  const { name } = f;
  const d = (): Daemon => f.daemon();

  test('stays fixed across container restarts, and names keep resolving through the gateway', async () => {
    const net = `macnet${process.pid}`;
    const id = await d().dockerOk(['network', 'create', net]);
    try {
      const bridge = `/sys/class/net/br-${id.slice(0, 12)}`;
      const srv = name('macsrv');
      const cli = name('maccli');
      await d().dockerOk(['run', '-d', '--name', srv, '--network', net, 'busybox', 'sleep', '1000']);
      await d().dockerOk(['run', '-d', '--name', cli, '--network', net, 'busybox', 'sleep', '1000']);
      // 3: NET_ADDR_SET, an address the bridge keeps whatever its ports are
      assert.equal((await readFile(`${bridge}/addr_assign_type`, 'utf8')).trim(), '3');
      const mac = (await readFile(`${bridge}/address`, 'utf8')).trim();
      for (let i = 0; i < 4; i++) {
        // each restart gives srv a new host-side veth with a random MAC
        await d().dockerOk(['restart', '-t', '0', srv]);
        assert.equal((await readFile(`${bridge}/address`, 'utf8')).trim(), mac, `bridge MAC changed after restart ${i + 1}`);
        const r = await d().docker(['exec', cli, 'ping', '-c', '1', '-W', '2', srv]);
        assert.equal(r.code, 0, `restart ${i + 1}: ${r.stdout}${r.stderr}`);
      }
    } finally {
      await d().api('DELETE', '/containers/macsrv?force=1');
      await d().api('DELETE', '/containers/maccli?force=1');
      await d().docker(['network', 'rm', net]);
    }
  });
});
