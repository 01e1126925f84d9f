// netavark's per-network nat chains (NETAVARK-<hash>, NETAVARK-DN-<hash> of published ports)
// go with the network: at network rm and at daemon stop, also after a container published a
// port there (netavark 1.4 drops the DN chain only when its complete teardown names port
// mappings). Checked by the exact names of this daemon's networks, never by another's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { networkChains } from '../../src/runtime/netavark/chains.js';
import { daemonForFile, type Daemon } from './harness.js';
import { networkLeaks } from './net-harness.js';

const run = promisify(execFile);

async function natChains(): Promise<Set<string>> {
  const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S']);
  return new Set(stdout.split('\n').filter((l) => l.startsWith('-N ')).map((l) => l.slice(3)));
}

async function presentChains(networkId: string): Promise<string[]> {
  const all = await natChains();
  return networkChains(networkId).filter((c) => all.has(c));
}

describe('netavark chains of a network', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('network rm removes its nat chains, the published ports chain included', async () => {
    const net = f.name('chains-net');
    const c = f.name('chains-pub');
    const id = (await d().dockerOk(['network', 'create', net])).trim();
    try {
      await d().dockerOk(['run', '-d', '--name', c, '--network', net, '-p', '80', 'busybox', 'sleep', '600']);
      assert.deepEqual(await presentChains(id), networkChains(id), 'a published port makes both chains');
      await d().dockerOk(['rm', '-f', c]);
    } finally {
      await d().docker(['network', 'rm', net]);
    }
    assert.deepEqual(await presentChains(id), []);
  });

  test('network rm of a network that never published a port leaves no chain and no error', async () => {
    const net = f.name('chains-quiet');
    const c = f.name('chains-quiet-c');
    const id = (await d().dockerOk(['network', 'create', net])).trim();
    await d().dockerOk(['run', '--name', c, '--network', net, 'busybox', 'true']);
    await d().dockerOk(['rm', c]);
    await d().dockerOk(['network', 'rm', net]);
    assert.deepEqual(await presentChains(id), []);
    assert.doesNotMatch(await d().log(), /removing the bridge failed/);
  });

  test('daemon stop removes the default bridge chains after a published port; the leak check would name them', async () => {
    const c = f.name('chains-default');
    await d().dockerOk(['run', '-d', '--name', c, '-p', '80', 'busybox', 'sleep', '600']);
    const id = (await d().dockerOk(['network', 'inspect', 'bridge', '--format', '{{.Id}}'])).trim();
    assert.deepEqual(await presentChains(id), networkChains(id));
    await d().dockerOk(['rm', '-f', c]);
    await d().stop('SIGTERM');
    try {
      assert.deepEqual(await presentChains(id), []);
      assert.deepEqual((await networkLeaks(d().base)).filter((l) => l.includes('NETAVARK')), []);
    } finally {
      await d().start();
    }
  });
});
