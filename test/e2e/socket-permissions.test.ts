// Review §15: who can reach the API socket and the data-root. The daemon runs with its socket in
// its exec-root (the default layout, /run/berth/berth.sock in /run/berth) and a numeric -G group.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { Daemon, findProcesses, recordRoot, runCommand } from './harness.js';
import { freePort } from '../fixtures/registry.js';

const GROUP = 4242;

/** The daemon's pid, from its pino log's `pid` field. */
async function daemonPid(d: Daemon): Promise<number> {
  const m = /"pid":(\d+)[^\n]*berth daemon started/.exec(await d.log());
  assert.ok(m, 'the daemon logged its start');
  return Number(m[1]);
}

/** Listening sockets (TCP in LISTEN, UDP unconnected) by socket inode: "tcp address:port". */
async function listeners(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const [file, state] of [['tcp', '0A'], ['tcp6', '0A'], ['udp', '07'], ['udp6', '07']]) {
    for (const line of (await readFile(`/proc/net/${file}`, 'utf8')).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== state) continue;
      const [hex, port] = f[1].split(':');
      const addr = hex.length === 8 ? Buffer.from(hex, 'hex').reverse().join('.') : hex;
      found.set(f[9], `${file.slice(0, 3)} ${addr}:${parseInt(port, 16)}`);
    }
  }
  return found;
}

/** What the daemon, its children and every process naming its roots listen on. */
async function listenersOf(d: Daemon, roots: string[]): Promise<string[]> {
  const pids = new Set<number>([await daemonPid(d), ...(await findProcesses(roots)).map((p) => p.pid)]);
  // descendants (netavark, runc, a health probe in flight): ppid walks until nothing is added
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of await readdir('/proc')) {
      if (!/^\d+$/.test(e) || pids.has(Number(e))) continue;
      const st = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (pids.has(ppid)) {
        pids.add(Number(e));
        grew = true;
      }
    }
  }
  const listening = await listeners();
  const out: string[] = [];
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
      if (m && listening.has(m[1])) out.push(`${(await readFile(`/proc/${pid}/comm`, 'utf8')).trim()} ${listening.get(m[1])}`);
    }
  }
  return [...new Set(out)].sort();
}

/** GET /_ping over the socket as an unprivileged user in group `gid`: its answer, or the error code. */
async function pingAs(socket: string, gid: number): Promise<string> {
  const script = `require('http').get({ socketPath: ${JSON.stringify(socket)}, path: '/_ping' }, (r) => { r.setEncoding('utf8'); r.on('data', (d) => process.stdout.write(d)); }).on('error', (e) => process.stdout.write(e.code));`;
  const r = await runCommand('setpriv', ['--reuid', '65534', '--regid', String(gid), '--clear-groups', process.execPath, '-e', script]);
  return r.stdout.trim();
}

describe('socket and data-root permissions', () => {
  let d: Daemon;
  let base: string;
  before(async () => {
    base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    // The socket (base/s.sock) sits in the exec-root, as /run/berth/berth.sock does by default.
    d = new Daemon(base, { args: ['--exec-root', base, '-G', String(GROUP)] });
    await mkdir(d.dockerConfig, { recursive: true });
    await d.start();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('the socket is 0660 with the -G group, bound elsewhere and renamed into place', async () => {
    const st = await stat(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, GROUP);
  });

  test('a member of the group reaches the socket in the exec-root, without listing the exec-root', async () => {
    const dir = await stat(base);
    assert.equal(dir.mode & 0o777, 0o710);
    assert.equal(dir.gid, GROUP);
    assert.equal(await pingAs(d.socket, GROUP), 'OK');
    assert.equal(await pingAs(d.socket, GROUP + 1), 'EACCES');
    const ls = await runCommand('setpriv', ['--reuid', '65534', '--regid', String(GROUP), '--clear-groups', 'ls', base]);
    assert.notEqual(ls.code, 0, 'the exec-root is not listable');
  });

  test('the data-root is 0710 at every start, even when it exists with another mode; the socket stays 0660 with its group', async () => {
    assert.equal((await stat(d.dataRoot)).mode & 0o777, 0o710);
    await d.stop();
    await chmod(d.dataRoot, 0o755);
    await chmod(base, 0o755);
    await d.start();
    assert.equal((await stat(d.dataRoot)).mode & 0o777, 0o710);
    const sock = await stat(d.socket);
    assert.deepEqual([sock.mode & 0o777, sock.uid, sock.gid], [0o660, 0, GROUP]);
    assert.equal((await stat(base)).mode & 0o777, 0o710);
  });

  test('nothing listens on TCP: not the daemon, its children nor its containers\' helpers; aardvark-dns on a user network\'s gateway UDP port 53 only', { timeout: 120_000 }, async () => {
    await d.ensureBusybox();
    await d.dockerOk(['run', '-d', '--name', 'tcp-check', 'busybox', 'sleep', '1000']);
    assert.deepEqual(await listenersOf(d, [base]), []);
    // Docker's embedded DNS listens in each container's netns; aardvark-dns, berth's, on the
    // network's gateway in the host's: that is the one listener a user network brings (UDP only:
    // Debian's aardvark-dns 1.4 has no TCP listener; 1.8+ would add tcp 10.231.77.1:53)
    await d.dockerOk(['network', 'create', '--subnet', '10.231.77.0/24', 'tcp-check-net']);
    try {
      await d.dockerOk(['run', '-d', '--name', 'tcp-check-2', '--network', 'tcp-check-net', 'busybox', 'sleep', '1000']);
      const seen = await listenersOf(d, [base]);
      assert.ok(seen.includes('aardvark-dns udp 10.231.77.1:53'), JSON.stringify(seen));
      assert.ok(seen.every((l) => /^aardvark-dns (udp|tcp) 10\.231\.77\.1:53$/.test(l)), JSON.stringify(seen));
    } finally {
      await d.api('DELETE', '/containers/tcp-check-2?force=1');
      await d.api('DELETE', '/containers/tcp-check?force=1');
      await d.api('DELETE', '/networks/tcp-check-net');
    }
  });

  test('-H tcp:// only when asked: dockerd\'s warnings in the log and /info, the API on that port and nothing else', { timeout: 60_000 }, async () => {
    const other = await mkdtemp('/tmp/bt-');
    await recordRoot(other);
    const port = await freePort();
    const t = new Daemon(other, { args: ['-H', `tcp://127.0.0.1:${port}`] });
    await mkdir(t.dockerConfig, { recursive: true });
    try {
      await t.start();
      const log = await t.log();
      assert.match(log, /"level":40[^\n]*"host":"tcp:\/\/127\.0\.0\.1:\d+"[^\n]*Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network\./);
      assert.match(log, /Binding to an IP address, even on localhost, can also give access to scripts run in a browser\. Be safe out there!/);
      const version = await runCommand('docker', ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}']);
      assert.equal(version.code, 0, version.stderr);
      const info = await runCommand('docker', ['-H', `tcp://127.0.0.1:${port}`, 'info']);
      assert.match(info.stderr, new RegExp(`^\\[DEPRECATION NOTICE\\]: API is accessible on http://127\\.0\\.0\\.1:${port} without encryption\\.`));
      assert.deepEqual(await listenersOf(t, [other]), [`node tcp 127.0.0.1:${port}`]);
    } finally {
      await t.cleanup();
    }
    // and the default daemon above listens on none
    assert.deepEqual((await d.api('GET', '/info')).json.Warnings, []);
  });

  test('a socket group that does not exist stops the start, as dockerd\'s "group X not found"; a gid is taken as it is', async () => {
    const other = await mkdtemp('/tmp/bt-');
    await recordRoot(other);
    const bad = new Daemon(other, { args: ['--exec-root', other, '-G', 'berth-no-such-group'] });
    await mkdir(bad.dockerConfig, { recursive: true });
    await assert.rejects(bad.start(10_000), /exited during start/);
    assert.match(await bad.log(), /failed to load listeners: group berth-no-such-group not found/);
    await assert.rejects(stat(bad.socket), { code: 'ENOENT' });
  });
});
