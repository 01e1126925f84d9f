// The default bridge, host, none and container: networking, and the plumbing's life across
// exits and daemon deaths (issue 9 items 1, 3, 6), through the docker CLI on real netavark.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { daemonForFile } from './harness.js';
import { networkLeaks } from './net-harness.js';

const run = promisify(execFile);

/** The exit's cleanup runs after `docker stop` returns (as moby's): poll for its end. */
async function settled<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function linkExists(name: string): Promise<boolean> {
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
  return links.some((l) => l.ifname === name);
}

describe('networks: default bridge, host, none, container:', () => {
  const { daemon: d, name, inspect } = daemonForFile();
  const net = async () => JSON.parse(await readFile(join(d().base, 'net.json'), 'utf8')) as { bridge: string; pool: string };
  // read inside the container: the test does not lean on inspect's NetworkSettings (netapi's)
  const ipOf = async (c: string) => /inet (\S+)\//.exec(await d().dockerOk(['exec', c, 'ip', '-4', '-o', 'addr', 'show', 'eth0']))![1];
  const prefix = async () => (await net()).pool.split('.').slice(0, 2).join('.') + '.';

  test('docker run gets an address of the default bridge and reaches another container by IP', async () => {
    const a = name('nb-a');
    await d().dockerOk(['run', '-d', '--name', a, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const ip = await ipOf(a);
    assert.ok(ip.startsWith(await prefix()), `${ip} is in the daemon's pool`);
    assert.ok(await linkExists((await net()).bridge), 'the default bridge exists while a container uses it');
    const out = await d().dockerOk(['run', '--rm', 'busybox', 'sh', '-c', `ip -4 -o addr show eth0; ip link show lo; ping -c1 -W5 ${ip} >/dev/null && wget -qO- http://${ip}/hostname`]);
    assert.match(out, new RegExp(`inet ${(await prefix()).replace(/\./g, '\\.')}`));
    assert.match(out, /lo: <LOOPBACK,UP/);
    assert.match(out, /[0-9a-f]{12}/, 'fetched the other container\'s /etc/hostname over the bridge');
  });

  test('host and none', async () => {
    const host = await d().dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
    assert.match(host, /\beth0\b/);
    const none = await d().dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
    assert.deepEqual(none.trim().split(/\s+/), ['lo']);
  });

  test('container:NAME joins the donor\'s namespace; a stopped donor is Docker\'s 409', async () => {
    const donor = name('nb-donor');
    await d().dockerOk(['run', '-d', '--name', donor, 'busybox', 'sleep', '300']);
    const ip = await ipOf(donor);
    const joined = await d().dockerOk(['run', '--rm', '--network', `container:${donor}`, 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(joined, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    await d().dockerOk(['stop', '-t', '0', donor]);
    const r = await d().docker(['run', '--rm', '--network', `container:${donor}`, 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`cannot join network namespace of a non running container: container ${donor} is exited`));
  });

  test('the plumbing goes with the container: exit, and SIGKILL of the daemon with the container running', async () => {
    const a = name('nb-life');
    await d().dockerOk(['run', '-d', '--name', a, 'busybox', 'sleep', '300']);
    const id = (await inspect(a)).Id as string;
    const ip = await ipOf(a);
    assert.deepEqual(await readdir(join(d().execRoot, 'netns')), [id]);
    await d().stop('SIGKILL');
    await d().start();
    // still reachable after the daemon's death
    await d().dockerOk(['run', '--rm', 'busybox', 'ping', '-c1', '-W5', ip]);
    await d().dockerOk(['stop', '-t', '0', a]);
    assert.deepEqual(await settled(() => networkLeaks(d().base), (l) => l.length === 0), []);
    assert.deepEqual(await readdir(join(d().execRoot, 'netns')), []);
  });

  test('a netns gone with the container while the daemon was down: rules, forwards and bridge still go', async () => {
    const a = name('nb-gone');
    await d().dockerOk(['run', '-d', '--name', a, '-p', '127.0.0.1::80', 'busybox', 'sleep', '300']);
    const { Id: id, State } = await inspect(a);
    assert.notDeepEqual(await networkLeaks(d().base), [], 'plumbed: the leak check sees it');
    await d().stop('SIGKILL');
    process.kill(State.Pid as number, 'SIGKILL');
    // half there: the namespace (and with it the veth) vanished, iptables rules and the bridge stay
    const ns = join(d().execRoot, 'netns', id as string);
    await run('umount', [ns]);
    await run('rm', [ns]);
    await d().start();
    await d().waitInspect(a, (j: any) => j.State.Status === 'exited');
    assert.deepEqual(await settled(() => networkLeaks(d().base), (l) => l.length === 0), []);
  });

  test('a start that fails after the plumbing began leaves none of it', async () => {
    const r = await d().docker(['run', '--rm', '-p', '127.0.0.1::80', 'busybox', '/no/such/binary']);
    assert.notEqual(r.code, 0);
    assert.deepEqual(await settled(() => networkLeaks(d().base), (l) => l.length === 0), []);
    assert.deepEqual(await readdir(join(d().execRoot, 'netns')), []);
  });

  test('an exit while the daemon was down is torn down by the next daemon', async () => {
    const a = name('nb-down');
    await d().dockerOk(['run', '-d', '--name', a, 'busybox', 'sleep', '300']);
    const pid = (await inspect(a)).State.Pid as number;
    await d().stop('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await d().start();
    await d().waitInspect(a, (j: any) => j.State.Status === 'exited');
    assert.deepEqual(await settled(() => networkLeaks(d().base), (l) => l.length === 0), []);
  });
});
