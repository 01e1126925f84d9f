// Published ports (issue 9 item 4) through the docker CLI on real netavark and iptables: -p in
// its forms, -P with --expose, /udp, ranges, reached from the host on 127.0.0.1 and on its own
// address and from another container; `docker port`, ps PORTS, inspect; a busy port names
// itself and leaves nothing; the forwards go with the container (exit, rm -f).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';
import { buildUdpEcho, freePorts, hostAddress, hostCanBind, httpdCmd, httpGet, httpUntil, natRulesFor, udpAsk, until } from './ports-tools.js';

describe('published ports', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();
  let hostIp = '';
  before(async () => {
    hostIp = await hostAddress();
  });

  test('-p H:80 is reached on 127.0.0.1 and on the host address; docker port, ps and inspect show 0.0.0.0:H', async () => {
    const n = f.name('pub-web');
    const h = await freePorts();
    await d().dockerOk(['run', '-d', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd('hello-web')]);
    assert.equal((await httpUntil('127.0.0.1', h)).trim(), 'hello-web');
    assert.equal((await httpUntil(hostIp, h)).trim(), 'hello-web');
    assert.equal(await d().dockerOk(['port', n]), `80/tcp -> 0.0.0.0:${h}`);
    assert.equal(await d().dockerOk(['port', n, '80']), `0.0.0.0:${h}`);
    assert.equal(await d().dockerOk(['ps', '--filter', `name=${n}`, '--format', '{{.Ports}}']), `0.0.0.0:${h}->80/tcp`);
    const c = await f.inspect(n);
    assert.deepEqual(c.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(h) }] });
    // filters on what ps shows
    assert.equal(await d().dockerOk(['ps', '-q', '--filter', `publish=${h}`, '--filter', `name=${n}`]), c.Id.slice(0, 12));
    assert.equal(await d().dockerOk(['ps', '-q', '--filter', 'expose=80/tcp', '--filter', `name=${n}`]), c.Id.slice(0, 12));
    assert.equal(await d().dockerOk(['ps', '-q', '--filter', `publish=${h}/udp`, '--filter', `name=${n}`]), '');
    assert.equal(await hostCanBind(h), false, 'the host port is held while the container runs');
  });

  test('-p 127.0.0.1:H:80 answers on loopback only, -p ADDR:H:80 on that address only', async () => {
    const n = f.name('pub-local');
    const h = await freePorts();
    await d().dockerOk(['run', '-d', '--name', n, '-p', `127.0.0.1:${h}:80`, 'busybox', ...httpdCmd('hello-local')]);
    assert.equal((await httpUntil('127.0.0.1', h)).trim(), 'hello-local');
    const other = await httpGet(hostIp, h);
    assert.equal(other.body, undefined, `the host address must not answer: ${JSON.stringify(other)}`);
    assert.equal(await d().dockerOk(['port', n]), `80/tcp -> 127.0.0.1:${h}`);
    assert.equal(await d().dockerOk(['ps', '--filter', `name=${n}`, '--format', '{{.Ports}}']), `127.0.0.1:${h}->80/tcp`);
    // and the other way round: the host address only
    const a = f.name('pub-hostaddr');
    const h2 = await freePorts();
    await d().dockerOk(['run', '-d', '--name', a, '-p', `${hostIp}:${h2}:80`, 'busybox', ...httpdCmd('hello-addr')]);
    assert.equal((await httpUntil(hostIp, h2)).trim(), 'hello-addr');
    assert.equal((await httpGet('127.0.0.1', h2)).body, undefined, 'loopback must not answer');
    assert.equal(await d().dockerOk(['port', a]), `80/tcp -> ${hostIp}:${h2}`);
  });

  test('-p 80 takes a free port of the ephemeral range; -P publishes every --expose port', async () => {
    const n = f.name('pub-any');
    await d().dockerOk(['run', '-d', '--name', n, '-p', '80', 'busybox', ...httpdCmd('hello-any')]);
    const out = await d().dockerOk(['port', n, '80/tcp']);
    const m = /^0\.0\.0\.0:(\d+)$/.exec(out);
    assert.ok(m, out);
    const [lo, hi] = (await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const port = Number(m[1]);
    assert.ok(port >= lo && port <= hi, `${port} in ${lo}-${hi}`);
    assert.equal((await httpUntil('127.0.0.1', port)).trim(), 'hello-any');

    const p = f.name('pub-all');
    await d().dockerOk(['run', '-d', '--name', p, '-P', '--expose', '80', '--expose', '81-82', 'busybox', ...httpdCmd('hello-all', [81, 80])]);
    const ports = (await f.inspect(p)).NetworkSettings.Ports;
    assert.deepEqual(Object.keys(ports), ['80/tcp', '81/tcp', '82/tcp']);
    for (const k of Object.keys(ports)) {
      assert.equal(ports[k].length, 1, k);
      assert.equal(ports[k][0].HostIp, '0.0.0.0');
    }
    const published = new Set(Object.values(ports).map((b: any) => b[0].HostPort));
    assert.equal(published.size, 3, 'three different host ports');
    assert.equal((await httpUntil('127.0.0.1', Number(ports['80/tcp'][0].HostPort))).trim(), 'hello-all');
    assert.equal((await httpUntil('127.0.0.1', Number(ports['81/tcp'][0].HostPort))).trim(), 'hello-all');
    // an exposed port without -P is listed but not published
    const e = f.name('pub-exposed');
    await d().dockerOk(['run', '-d', '--name', e, '--expose', '90', 'busybox', 'sleep', '1000']);
    assert.deepEqual((await f.inspect(e)).NetworkSettings.Ports, { '90/tcp': null });
    assert.equal(await d().dockerOk(['ps', '--filter', `name=${e}`, '--format', '{{.Ports}}']), '90/tcp');
  });

  test('/udp and a port range', async () => {
    const echo = await buildUdpEcho();
    const n = f.name('pub-udp');
    const u = await freePorts();
    await d().dockerOk(['create', '--name', n, '-p', `${u}:5353/udp`, 'busybox', '/udp-echo', '5353']);
    await d().dockerOk(['cp', echo, `${n}:/udp-echo`]);
    await rm(dirname(echo), { recursive: true, force: true });
    await d().dockerOk(['start', n]);
    assert.equal(await until('UDP echo through the published port', () => udpAsk('127.0.0.1', u, 'ping')), 'echo:ping');
    assert.equal(await until('UDP echo on the host address', () => udpAsk(hostIp, u, 'pong')), 'echo:pong');
    assert.equal(await d().dockerOk(['port', n]), `5353/udp -> 0.0.0.0:${u}`);
    assert.equal(await hostCanBind(u, 'tcp'), true, 'TCP of the same number stays free');

    const r = f.name('pub-range');
    const base = await freePorts(3);
    await d().dockerOk(['run', '-d', '--name', r, '-p', `${base}-${base + 2}:8000-8002`, 'busybox', ...httpdCmd('hello-range', [8000, 8001, 8002])]);
    for (let i = 0; i < 3; i++) assert.equal((await httpUntil('127.0.0.1', base + i)).trim(), 'hello-range');
    assert.equal(
      await d().dockerOk(['port', r]),
      [0, 1, 2].map((i) => `${8000 + i}/tcp -> 0.0.0.0:${base + i}`).join('\n'),
    );
    // the CLI joins consecutive ports into a range only where host and container ports are equal
    assert.equal(
      await d().dockerOk(['ps', '--filter', `name=${r}`, '--format', '{{.Ports}}']),
      [0, 1, 2].map((i) => `0.0.0.0:${base + i}->${8000 + i}/tcp`).join(', '),
    );
    const same = f.name('pub-range-same');
    const sb = await freePorts(3);
    await d().dockerOk(['run', '-d', '--name', same, '-p', `${sb}-${sb + 2}:${sb}-${sb + 2}`, 'busybox', 'sleep', '1000']);
    assert.equal(await d().dockerOk(['ps', '--filter', `name=${same}`, '--format', '{{.Ports}}']), `0.0.0.0:${sb}-${sb + 2}->${sb}-${sb + 2}/tcp`);
    // one netavark entry for the range: one DNAT rule
    assert.equal((await natRulesFor(sb + 1)).filter((l) => l.includes('-j DNAT')).length, 1);
  });

  test('another container reaches a published port through the host address', async () => {
    const n = f.name('pub-for-peer');
    const h = await freePorts();
    await d().dockerOk(['run', '-d', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd('hello-peer')]);
    await httpUntil('127.0.0.1', h);
    const out = await d().dockerOk(['run', '--rm', 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${hostIp} ${h}`]);
    assert.match(out, /hello-peer/);
  });

  test('a busy host port: the error names it, the container stays created, nothing is left', async () => {
    const h = await freePorts();
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen({ port: h, host: '0.0.0.0' }, r));
    try {
      const n = f.name('pub-busy');
      const r = await d().docker(['run', '-d', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd('never')]);
      assert.equal(r.code, 125, r.stderr);
      const id = (await f.inspect(n)).Id;
      assert.match(
        r.stderr,
        new RegExp(`Error response from daemon: driver failed programming external connectivity on endpoint ${n} \\([0-9a-f]{64}\\): failed to bind host port for 0\\.0\\.0\\.0:${h}:[0-9.]+:80/tcp: address already in use`),
      );
      const c = await f.inspect(n);
      assert.equal(c.State.Status, 'created');
      assert.deepEqual(c.NetworkSettings.Ports, {});
      assert.deepEqual(await natRulesFor(h), [], 'no DNAT rule for the busy port');
      assert.equal(existsSync(join(d().execRoot, 'netns', id)), false, 'no netns left');
      assert.deepEqual(c.NetworkSettings.Networks.bridge?.IPAddress ?? '', '', 'no address kept');
    } finally {
      await new Promise((r) => server.close(r));
    }
    // a port another container publishes: moby's allocator text
    const a = f.name('pub-first');
    const b = f.name('pub-second');
    const p = await freePorts();
    await d().dockerOk(['run', '-d', '--name', a, '-p', `${p}:80`, 'busybox', ...httpdCmd('first')]);
    const r2 = await d().docker(['run', '-d', '--name', b, '-p', `${p}:80`, 'busybox', ...httpdCmd('second')]);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p} failed: port is already allocated|failed to bind host port for 0\\.0\\.0\\.0:${p}:`));
    assert.equal((await httpUntil('127.0.0.1', p)).trim(), 'first', 'the first container keeps its port');
    // once the first is gone, the second starts on it
    await d().dockerOk(['rm', '-f', a]);
    await d().dockerOk(['start', b]);
    assert.equal((await httpUntil('127.0.0.1', p)).trim(), 'second');
  });

  test('the forward goes when the container exits and with rm -f', async () => {
    const n = f.name('pub-exit');
    const h = await freePorts();
    await d().dockerOk(['run', '-d', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd('bye')]);
    await httpUntil('127.0.0.1', h);
    assert.notDeepEqual(await natRulesFor(h), []);
    await d().dockerOk(['stop', '-t', '1', n]);
    // as with Docker, the network is gone when stop returns
    assert.deepEqual(await natRulesFor(h), [], 'rules gone after exit');
    assert.equal(await hostCanBind(h), true, 'the port is free after exit');
    assert.deepEqual((await f.inspect(n)).NetworkSettings.Ports, {});
    assert.equal(await d().dockerOk(['ps', '-a', '--filter', `name=${n}`, '--format', '{{.Ports}}']), '');
    // its port is free for the next container at once (compose's recreate: stop, then run)
    const next = f.name('pub-exit-next');
    await d().dockerOk(['run', '-d', '--name', next, '-p', `${h}:80`, 'busybox', ...httpdCmd('next')]);
    assert.equal((await httpUntil('127.0.0.1', h)).trim(), 'next');
    await d().dockerOk(['stop', '-t', '1', next]);
    // started again: the same port
    await d().dockerOk(['start', n]);
    assert.equal((await httpUntil('127.0.0.1', h)).trim(), 'bye');
    await d().dockerOk(['rm', '-f', n]);
    assert.deepEqual(await natRulesFor(h), [], 'rules gone after rm -f');
    assert.equal(await hostCanBind(h), true, 'the port is free after rm -f');
    const e = await httpGet('127.0.0.1', h);
    assert.equal(e.error, 'ECONNREFUSED');
  });

  test('docker stats: the container interface counters; none for --network none', async () => {
    const n = f.name('stats-net');
    const h = await freePorts();
    await d().dockerOk(['run', '-d', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd('x'.repeat(1000))]);
    for (let i = 0; i < 5; i++) await httpUntil('127.0.0.1', h);
    const s = (await d().api('GET', `/containers/${n}/stats?stream=false&one-shot=true`)).json;
    assert.deepEqual(Object.keys(s.networks), ['eth0']);
    assert.ok(s.networks.eth0.tx_bytes >= 5000, JSON.stringify(s.networks));
    assert.ok(s.networks.eth0.rx_packets > 0);
    for (const k of ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped']) assert.equal(typeof s.networks.eth0[k], 'number', k);
    const netIo = await d().dockerOk(['stats', '--no-stream', '--format', '{{.NetIO}}', n]);
    assert.doesNotMatch(netIo, /^0B \/ 0B$/);
    assert.match(netIo, /kB/);

    // a container in another's namespace reports that namespace's interfaces, as moby
    const joined = f.name('stats-joined');
    await d().dockerOk(['run', '-d', '--name', joined, '--network', `container:${n}`, 'busybox', 'sleep', '1000']);
    const sj = (await d().api('GET', `/containers/${joined}/stats?stream=false&one-shot=true`)).json;
    assert.deepEqual(Object.keys(sj.networks), ['eth0']);
    assert.ok(sj.networks.eth0.tx_bytes >= s.networks.eth0.tx_bytes);

    const none = f.name('stats-none');
    await d().dockerOk(['run', '-d', '--name', none, '--network', 'none', 'busybox', 'sleep', '1000']);
    const sn = (await d().api('GET', `/containers/${none}/stats?stream=false&one-shot=true`)).json;
    assert.equal('networks' in sn, false);
    const host = f.name('stats-host');
    await d().dockerOk(['run', '-d', '--name', host, '--network', 'host', 'busybox', 'sleep', '1000']);
    assert.equal('networks' in (await d().api('GET', `/containers/${host}/stats?stream=false&one-shot=true`)).json, false);
  });

  test("-P publishes the image's EXPOSE ports", async () => {
    const base = f.name('pub-img-base');
    const image = `ports-exposing-${process.pid}`;
    await d().dockerOk(['create', '--name', base, 'busybox', 'true']);
    await d().dockerOk(['commit', '--change', 'EXPOSE 80', '--change', 'EXPOSE 81/udp', base, image]);
    try {
      const n = f.name('pub-img');
      await d().dockerOk(['run', '-d', '--name', n, '-P', image, ...httpdCmd('hello-image')]);
      const ports = (await f.inspect(n)).NetworkSettings.Ports;
      assert.deepEqual(Object.keys(ports), ['80/tcp', '81/udp']);
      assert.equal((await httpUntil('127.0.0.1', Number(ports['80/tcp'][0].HostPort))).trim(), 'hello-image');
      assert.match(await d().dockerOk(['port', n, '81/udp']), /^0\.0\.0\.0:\d+$/);
    } finally {
      await d().docker(['rm', '-f', 'pub-img']);
      await d().docker(['rmi', image]);
    }
  });

  test('an internal network publishes nothing, as Docker', async () => {
    const net = `ports-internal-${process.pid}`;
    await d().dockerOk(['network', 'create', '--internal', net]);
    try {
      const n = f.name('pub-internal');
      const h = await freePorts();
      await d().dockerOk(['run', '-d', '--name', n, '--network', net, '-p', `${h}:80`, 'busybox', ...httpdCmd('hidden')]);
      assert.deepEqual((await f.inspect(n)).NetworkSettings.Ports, {});
      assert.deepEqual(await natRulesFor(h), []);
      assert.equal(await hostCanBind(h), true);
      await d().dockerOk(['rm', '-f', n]);
      // on an internal network and the default bridge: published through the bridge
      const both = f.name('pub-internal-and-bridge');
      await d().dockerOk(['create', '--name', both, '--network', net, '-p', `${h}:80`, 'busybox', ...httpdCmd('via-bridge')]);
      await d().dockerOk(['network', 'connect', 'bridge', both]);
      await d().dockerOk(['start', both]);
      assert.equal((await httpUntil('127.0.0.1', h)).trim(), 'via-bridge');
      assert.deepEqual((await f.inspect(both)).NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(h) }] });
      await d().dockerOk(['rm', '-f', both]);
    } finally {
      await d().docker(['network', 'rm', net]);
    }
  });

  test('two containers started at once on one port: one gets it, the other is told', async () => {
    const h = await freePorts();
    const names = [f.name('pub-race-a'), f.name('pub-race-b')];
    for (const n of names) await d().dockerOk(['create', '--name', n, '-p', `${h}:80`, 'busybox', ...httpdCmd(n)]);
    const results = await Promise.all(names.map((n) => d().docker(['start', n])));
    const ok = results.filter((r) => r.code === 0);
    assert.equal(ok.length, 1, results.map((r) => r.stderr).join('\n'));
    const failed = results.find((r) => r.code !== 0)!;
    assert.match(failed.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${h} failed: port is already allocated|failed to bind host port for 0\\.0\\.0\\.0:${h}:[0-9.]+:80/tcp: address already in use`));
    const winner = names[results.indexOf(ok[0])];
    assert.equal((await httpUntil('127.0.0.1', h)).trim(), winner);
  });
});
