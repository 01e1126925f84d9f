// The embedded DNS mechanics without a daemon: two network namespaces on a bridge of their
// own, a real aardvark-dns 1.4 serving the bridge's gateway, enableEmbeddedDns in each
// namespace, and updateAardvarkNames with SIGHUP. What a container on a user-defined network
// gets from networking is checked through the daemon in networks-dns.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { fakeUpstream } from '../fixtures/fake-dns.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { enableEmbeddedDns } from '../../src/engine/networks/dns/embedded-dns.js';
import { updateAardvarkNames } from '../../src/runtime/netavark/aardvark-records.js';

const run = promisify(execFile);
const AARDVARK = '/usr/lib/podman/aardvark-dns';
const A_ID = 'a'.repeat(64);
const B_ID = 'b'.repeat(64);

/** A /24 in 10.99.0.0/16 (outside the test daemons' 10.128.0.0/9 pools) that no host route touches. */
async function freeSubnet(): Promise<string> {
  const routes = (await run('ip', ['-4', 'route'])).stdout;
  for (let i = 0; i < 50; i++) {
    const third = 100 + Math.floor(Math.random() * 150);
    if (!routes.includes(`10.99.${third}.`)) return `10.99.${third}`;
  }
  throw new Error('no free subnet');
}


describe('embedded DNS plumbing (netns + aardvark-dns)', () => {
  let root = '';
  let net = '';
  let bridge = '';
  let upstream: Socket | undefined;
  const upstreamIp = `127.0.0.${100 + Math.floor(Math.random() * 150)}`;
  const ns = { a: '', b: '' };

  const nslookup = async (nsPath: string, name: string) => {
    const r = await run('nsenter', [`--net=${nsPath}`, 'busybox', 'nslookup', '-type=a', name, '127.0.0.11']).catch((e: { stdout: string; stderr: string }) => ({ stdout: e.stdout + e.stderr }));
    return r.stdout;
  };
  const aardvarkFile = () => join(root, 'aardvark-dns', 'testnet');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-dns-'));
    net = await freeSubnet();
    bridge = `bdns${process.pid.toString(16).slice(-6)}`;
    await mkdir(join(root, 'aardvark-dns'));
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${net}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    for (const [key, ip] of [['a', 2], ['b', 3]] as const) {
      const path = join(root, `ns-${key}`);
      await writeFile(path, '');
      await run('unshare', [`--net=${path}`, 'true']);
      ns[key] = path;
      const hostSide = `${bridge}${key}`;
      await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', path]);
      await run('ip', ['link', 'set', hostSide, 'master', bridge, 'up']);
      const inNs = (args: string[]) => run('nsenter', [`--net=${path}`, 'ip', ...args]);
      await inNs(['addr', 'add', `${net}.${ip}/24`, 'dev', 'eth0']);
      await inNs(['link', 'set', 'eth0', 'up']);
      await inNs(['link', 'set', 'lo', 'up']);
      await inNs(['route', 'add', 'default', 'via', `${net}.1`]);
    }
    upstream = await fakeUpstream(upstreamIp, '192.0.2.77');
    // b has the fake upstream as its own server (what --dns becomes), a the host's
    await writeFile(aardvarkFile(), `${net}.1\n${A_ID} ${net}.2  alpha,aaaaaaaaaaaa\n${B_ID} ${net}.3  beta,bbbbbbbbbbbb,bee ${upstreamIp}\n`);
    await run(AARDVARK, ['--config', join(root, 'aardvark-dns'), '-p', '53', 'run']);
  });

  after(async () => {
    const pid = Number(await readFile(join(root, 'aardvark-dns', 'aardvark.pid'), 'utf8').catch(() => ''));
    if (pid > 1) process.kill(pid, 'SIGTERM');
    upstream?.close();
    for (const p of Object.values(ns)) if (p) await run('umount', [p]).catch(() => undefined);
    if (bridge) await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('127.0.0.11 reaches aardvark-dns from inside the namespace, as the container', async () => {
    const times: number[] = [];
    for (const [key, ip] of [['a', 2], ['b', 3]] as const) {
      const t0 = process.hrtime.bigint();
      await enableEmbeddedDns(ns[key], { server: `${net}.1`, containerIp: `${net}.${ip}` });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    // again: idempotent (the nat table is replaced, not appended to)
    await enableEmbeddedDns(ns.a, { server: `${net}.1`, containerIp: `${net}.2` });
    const rules = (await run('nsenter', [`--net=${ns.a}`, 'iptables', '-t', 'nat', '-S'])).stdout;
    assert.equal(rules.split('\n').filter((l) => l.startsWith('-A')).length, 4);
    console.log(`enableEmbeddedDns: ${times.map((t) => t.toFixed(1)).join(' ms, ')} ms`);

    assert.match(await nslookup(ns.a, 'beta'), new RegExp(`Address: ${net.replace(/\./g, '\\.')}\\.3`));
    assert.match(await nslookup(ns.a, 'bbbbbbbbbbbb'), new RegExp(`Address: ${net.replace(/\./g, '\\.')}\\.3`));
    assert.match(await nslookup(ns.b, 'alpha'), new RegExp(`Address: ${net.replace(/\./g, '\\.')}\\.2`));
    assert.match(await nslookup(ns.a, 'nosuchname'), /NXDOMAIN/);
  });

  test('names outside the network go to the asker\'s upstream servers', async () => {
    assert.match(await nslookup(ns.b, 'external.example.test'), /Address: 192\.0\.2\.77/);
  });

  test('updateAardvarkNames: a renamed container answers to its new name only', async () => {
    assert.equal(await updateAardvarkNames(join(root, 'aardvark-dns'), 'testnet', B_ID, ['gamma', 'bbbbbbbbbbbb']), true);
    assert.match(await readFile(aardvarkFile(), 'utf8'), new RegExp(`^${B_ID} ${net.replace(/\./g, '\\.')}\\.3  gamma,bbbbbbbbbbbb ${upstreamIp.replace(/\./g, '\\.')}$`, 'm'));
    // SIGHUP is asynchronous: aardvark-dns answers from the new file once it re-read it
    let out = '';
    for (let i = 0; i < 50 && !/Address: /.test(out); i++) {
      out = await nslookup(ns.a, 'gamma');
      if (!/Address: /.test(out)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, new RegExp(`Address: ${net.replace(/\./g, '\\.')}\\.3`));
    assert.match(await nslookup(ns.a, 'beta'), /NXDOMAIN/);
  });
});
