// User-defined networks' plumbing (issue 9 items 1, 3, 6): subnets, --internal, --ip, several
// networks, connect/disconnect on a running container, and Docker's errors with nothing
// half-made, through the docker CLI on real netavark and iptables.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { daemonForFile } from './harness.js';

const run = promisify(execFile);

async function links(): Promise<string[]> {
  return (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[]).map((l) => l.ifname);
}

async function iptablesMentions(text: string): Promise<string[]> {
  const out: string[] = [];
  for (const t of ['filter', 'nat']) out.push(...(await run('iptables', ['-w', '-t', t, '-S'])).stdout.split('\n').filter((l) => l.includes(text)));
  return out;
}

describe('networks: user-defined bridges', () => {
  const { daemon: d, name } = daemonForFile();
  let nets: string[] = [];
  const net = (n: string) => {
    nets.push(n);
    return n;
  };
  afterEach(async () => {
    for (const n of nets) await d().docker(['network', 'rm', n]);
    nets = [];
  });
  after(async () => undefined);
  const pool = async () => (JSON.parse(await readFile(join(d().base, 'net.json'), 'utf8')) as { pool: string }).pool.split('.').slice(0, 2).join('.');
  const addrs = async (c: string) => (await d().dockerOk(['exec', c, 'ip', '-4', '-o', 'addr'])).split('\n').filter((l) => / eth\d/.test(l));

  test('a user network gets a subnet of the pool, its bridge br-<id>, and containers reach each other', async () => {
    const n = net('nu-plain');
    const id = (await d().dockerOk(['network', 'create', n])).trim();
    const a = name('nu-a');
    await d().dockerOk(['run', '-d', '--name', a, '--network', n, 'busybox', 'sleep', '300']);
    assert.ok((await links()).includes(`br-${id.slice(0, 12)}`));
    const [line] = await addrs(a);
    const ip = /inet (\S+)\//.exec(line)![1];
    assert.ok(ip.startsWith(`${await pool()}.`), `${ip} from the daemon's pool`);
    await d().dockerOk(['run', '--rm', '--network', n, 'busybox', 'ping', '-c1', '-W5', ip]);
    // by name through 127.0.0.11 (aardvark-dns fed by this network's plumbing); not from elsewhere
    await d().dockerOk(['run', '--rm', '--network', n, 'busybox', 'ping', '-c1', '-W5', a]);
    const other = await d().docker(['run', '--rm', 'busybox', 'ping', '-c1', '-W2', a]);
    assert.notEqual(other.code, 0);
  });

  test('--subnet, --gateway, --ip-range and --ip', async () => {
    const p = await pool();
    const n = net('nu-sub');
    await d().dockerOk(['network', 'create', '--subnet', `${p}.77.0/24`, '--gateway', `${p}.77.254`, '--ip-range', `${p}.77.128/25`, n]);
    const a = name('nu-sub-a');
    await d().dockerOk(['run', '-d', '--name', a, '--network', n, 'busybox', 'sleep', '300']);
    assert.match((await addrs(a))[0], new RegExp(`inet ${p}\\.77\\.128/24`));
    const route = await d().dockerOk(['exec', a, 'ip', 'route']);
    assert.match(route, new RegExp(`default via ${p}\\.77\\.254`));
    const b = name('nu-sub-b');
    await d().dockerOk(['run', '-d', '--name', b, '--network', n, '--ip', `${p}.77.200`, 'busybox', 'sleep', '300']);
    assert.match((await addrs(b))[0], new RegExp(`inet ${p}\\.77\\.200/24`));
    const dup = await d().docker(['run', '--rm', '--network', n, '--ip', `${p}.77.200`, 'busybox', 'true']);
    assert.match(dup.stderr, /Address already in use/);
    const outside = await d().docker(['run', '--rm', '--network', n, '--ip', `${p}.78.5`, 'busybox', 'true']);
    assert.match(outside.stderr, new RegExp(`no configured subnet or ip-range contain the IP address ${p}\\.78\\.5`));
    const onBridge = await d().docker(['run', '--rm', '--ip', `${p}.77.9`, 'busybox', 'true']);
    assert.match(onBridge.stderr, /user specified IP address is supported on user defined networks only/);
  });

  test('--internal: no route out', async () => {
    const n = net('nu-internal');
    await d().dockerOk(['network', 'create', '--internal', n]);
    const out = await d().dockerOk(['run', '--rm', '--network', n, 'busybox', 'ip', 'route']);
    assert.doesNotMatch(out, /default/);
  });

  test('-o com.docker.network.bridge.name and mtu', async () => {
    const n = net('nu-opts');
    const bridge = `bn${Math.random().toString(16).slice(2, 8)}`;
    await d().dockerOk(['network', 'create', '-o', `com.docker.network.bridge.name=${bridge}`, '-o', 'com.docker.network.driver.mtu=1400', n]);
    const a = name('nu-opts-a');
    await d().dockerOk(['run', '-d', '--name', a, '--network', n, 'busybox', 'sleep', '300']);
    assert.ok((await links()).includes(bridge));
    assert.match(await d().dockerOk(['exec', a, 'ip', 'link', 'show', 'eth0']), /mtu 1400/);
  });

  test('a container on two networks, and connect/disconnect while it runs', async () => {
    const n1 = net('nu-one');
    const n2 = net('nu-two');
    await d().dockerOk(['network', 'create', n1]);
    await d().dockerOk(['network', 'create', n2]);
    const a = name('nu-two-a');
    await d().dockerOk(['create', '--name', a, '--network', n1, 'busybox', 'sleep', '300']);
    await d().dockerOk(['network', 'connect', n2, a]);
    await d().dockerOk(['start', a]);
    assert.equal((await addrs(a)).length, 2, 'eth0 and eth1 at start');
    await d().dockerOk(['network', 'disconnect', n2, a]);
    assert.equal((await addrs(a)).length, 1, 'eth1 gone at once');
    await d().dockerOk(['network', 'connect', n2, a]);
    assert.equal((await addrs(a)).length, 2, 'eth1 back at once');
    const twice = await d().docker(['network', 'connect', n2, a]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, new RegExp(`endpoint with name ${a} already exists in network ${n2}`));
    const busy = await d().docker(['network', 'rm', n2]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, new RegExp(`error while removing network: network ${n2} has active endpoints \\(name:"${a}" id:"[0-9a-f]{12}"\\)`));
  });

  test('a stopped container whose network was removed: its start is Docker\'s "not found"', async () => {
    const n = 'nu-gone';
    await d().dockerOk(['network', 'create', n]);
    const a = name('nu-gone-a');
    await d().dockerOk(['create', '--name', a, '--network', n, 'busybox', 'true']);
    await d().dockerOk(['network', 'rm', n]);
    const r = await d().docker(['start', a]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /network nu-gone not found/);
    assert.deepEqual(await readdir(join(d().execRoot, 'netns')), []);
  });

  test('network events as Docker emits them: create, connect at start, disconnect at exit, destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const n = 'nu-events';
    const id = (await d().dockerOk(['network', 'create', n])).trim();
    const a = name('nu-ev-a');
    await d().dockerOk(['run', '--rm', '--name', a, '--network', n, 'busybox', 'true']);
    await d().dockerOk(['network', 'rm', n]);
    const until = Math.floor(Date.now() / 1000) + 1;
    const out = await d().dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=network', '--filter', `network=${id}`, '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}}']);
    assert.deepEqual(out.trim().split('\n'), [`create ${n} bridge`, `connect ${n} bridge`, `disconnect ${n} bridge`, `destroy ${n} bridge`]);
  });

  test('bad subnets, overlaps and predefined networks: Docker\'s errors, nothing made', async () => {
    const before = (await d().dockerOk(['network', 'ls', '-q'])).trim().split('\n').sort();
    const bad = await d().docker(['network', 'create', '--subnet', '10.1.2.3/24', 'nu-bad']);
    assert.match(bad.stderr, /invalid subnet 10\.1\.2\.3\/24: it should be 10\.1\.2\.0\/24/);
    const p = await pool();
    await d().dockerOk(['network', 'create', '--subnet', `${p}.90.0/24`, net('nu-first')]);
    const overlap = await d().docker(['network', 'create', '--subnet', `${p}.90.128/25`, 'nu-overlap']);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    for (const predefined of ['bridge', 'host', 'none']) {
      const r = await d().docker(['network', 'rm', predefined]);
      assert.match(r.stderr, new RegExp(`${predefined} is a pre-defined network and cannot be removed`));
    }
    const after = (await d().dockerOk(['network', 'ls', '-q'])).trim().split('\n').sort();
    assert.equal(after.length, before.length + 1);
  });

  test('a failing netavark leaves no netns, veth or rule behind', async () => {
    const p = await pool();
    const n = net('nu-fail');
    // a bridge name taken by a veth makes netavark's setup fail after it began
    const blocker = `bf${Math.random().toString(16).slice(2, 8)}`;
    await run('ip', ['link', 'add', blocker, 'type', 'veth', 'peer', 'name', `${blocker}p`]);
    try {
      await d().dockerOk(['network', 'create', '--subnet', `${p}.91.0/24`, '-o', `com.docker.network.bridge.name=${blocker}`, n]);
      const r = await d().docker(['run', '--rm', '--network', n, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /netavark/);
      assert.deepEqual(await readdir(join(d().execRoot, 'netns')), []);
      assert.deepEqual(await iptablesMentions(`${p}.91.`), []);
    } finally {
      // netavark's teardown already removed it (a "bridge" with no ports left)
      await run('ip', ['link', 'del', blocker]).catch(() => undefined);
    }
  });
});
