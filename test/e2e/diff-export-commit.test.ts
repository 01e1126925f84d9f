// docker diff, export, commit (issue 3, item 3), and the lifecycle commands that had no e2e test
// yet: docker port, streaming stats, container prune with `until`.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { DOCKER_BIN, daemonForFile, type Daemon } from './harness.js';

describe('diff, export, commit, port, stats stream, prune until', () => {
  const f = daemonForFile();
  const { name, inspect } = f;
  let d: Daemon;
  const images: string[] = [];
  before(() => {
    d = f.daemon();
  });

  const env = () => ({ ...process.env, DOCKER_HOST: `unix://${d.socket}` });
  const script = 'echo new > /new.txt; rm /bin/ls; echo extra >> /etc/passwd; mkdir -p /var/newdir; touch /var/newdir/f; sleep 1000';

  test('docker diff lists what the container changed, without berth\'s mountpoints', async () => {
    const c = name('diff');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sh', '-c', script]);
    let diff = '';
    for (let i = 0; i < 50 && !diff.includes('/var/newdir/f'); i++) diff = await d.dockerOk(['diff', c]);
    assert.deepEqual(diff.split('\n'), ['C /bin', 'D /bin/ls', 'C /etc', 'C /etc/passwd', 'A /new.txt', 'C /var', 'A /var/newdir', 'A /var/newdir/f']);
    const api = await d.api('GET', `/containers/${c}/changes`);
    assert.deepEqual(api.json[1], { Path: '/bin/ls', Kind: 2 });
    // a fresh container changed nothing (its mountpoints are not changes)
    const fresh = name('fresh');
    await d.dockerOk(['run', '--name', fresh, 'busybox', 'true']);
    assert.equal(await d.dockerOk(['diff', fresh]), '');
  });

  test('docker commit: a new layer with the changes, --change, author, message; the image runs', async () => {
    const c = name('commit');
    await d.dockerOk(['run', '-d', '--name', c, '-e', 'FROM_CTR=1', 'busybox', 'sh', '-c', script]);
    for (let i = 0; i < 50 && !(await d.dockerOk(['diff', c])).includes('/var/newdir/f'); i++) await new Promise((r) => setTimeout(r, 100));
    const events = spawn(DOCKER_BIN, ['events', '--filter', 'event=commit', '--format', '{{.Action}} {{.Actor.Attributes.comment}}'], { env: env() });
    let seen = '';
    events.stdout.on('data', (b: Buffer) => (seen += b.toString()));
    try {
      const id = await d.dockerOk(['commit', '-c', 'CMD ["cat", "/new.txt"]', '-c', 'ENV ADDED=yes', '-m', 'my message', '-a', 'Ann <ann@example.com>', c, 'committed:v1']);
      images.push('committed:v1');
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      // the container keeps running, unpaused
      assert.equal((await inspect(c)).State.Status, 'running');
      assert.equal(await d.dockerOk(['run', '--rm', 'committed:v1']), 'new');
      const check = await d.docker(['run', '--rm', 'committed:v1', 'sh', '-c', 'ls /bin/ls; tail -1 /etc/passwd; ls /var/newdir; echo "$ADDED $FROM_CTR"']);
      assert.match(check.stderr, /ls: \/bin\/ls: No such file or directory/);
      assert.equal(check.stdout.trim(), 'extra\nf\nyes 1');
      const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'committed:v1']))[0];
      assert.equal(img.Author, 'Ann <ann@example.com>');
      assert.equal(img.Comment, 'my message');
      assert.deepEqual(img.Config.Cmd, ['cat', '/new.txt']);
      const base = JSON.parse(await d.dockerOk(['image', 'inspect', 'busybox']))[0];
      assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);
      assert.deepEqual(img.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
      const history = await d.dockerOk(['history', '--no-trunc', '--format', '{{.Comment}}', 'committed:v1']);
      assert.equal(history.split('\n')[0], 'my message');
      for (let i = 0; i < 50 && !seen.includes('commit'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(seen, /commit my message/);
    } finally {
      events.kill('SIGKILL');
    }
    // a commit of a committed image's container stacks another layer on top
    const c2 = name('commit2');
    await d.dockerOk(['run', '--name', c2, 'committed:v1', 'sh', '-c', 'echo second > /second.txt']);
    await d.dockerOk(['commit', c2, 'committed:v2']);
    images.push('committed:v2');
    assert.equal(await d.dockerOk(['run', '--rm', 'committed:v2', 'cat', '/new.txt', '/second.txt']), 'new\nsecond');
    const bad = await d.docker(['commit', '-c', 'BOGUS x', c2, 'committed:bad']);
    assert.notEqual(bad.code, 0);
    assert.equal((await d.api('POST', '/commit?container=no-such-ctr')).status, 404);
    for (const i of images) await d.docker(['rmi', '-f', i]);
  });

  test('docker export streams the whole filesystem; docker import brings it back', async () => {
    const c = name('export');
    await d.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'echo exported > /marker.txt']);
    const listing = spawnSync('sh', ['-c', `${DOCKER_BIN} export ${c} | tar -t`], { env: env() }).stdout.toString().split('\n');
    for (const entry of ['bin/', 'bin/busybox', 'etc/passwd', 'marker.txt']) assert.ok(listing.includes(entry), entry);
    const roundTrip = spawnSync('sh', ['-c', `${DOCKER_BIN} export ${c} | ${DOCKER_BIN} import - exported:v1`], { env: env() });
    assert.equal(roundTrip.status, 0, roundTrip.stderr.toString());
    assert.equal(await d.dockerOk(['run', '--rm', 'exported:v1', '/bin/cat', '/marker.txt']), 'exported');
    await d.docker(['rmi', 'exported:v1']);
  });

  test('docker port: nothing published on network none; unknown port is an error', async () => {
    const c = name('port');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sleep', '1000']);
    assert.equal(await d.dockerOk(['port', c]), '');
    const r = await d.docker(['port', c, '80/tcp']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No public port '80\/tcp' published for/);
  });

  test('stats stream: successive samples whose precpu is the previous sample', async () => {
    const c = name('stats');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'while :; do :; done']);
    const res = await d.stream('GET', `/containers/${c}/stats?stream=true`);
    const samples: any[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          samples.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
        if (samples.length >= 3) resolve();
      });
      res.on('error', reject);
      res.on('end', () => reject(new Error(`stream ended after ${samples.length} samples`)));
    });
    res.destroy();
    for (let i = 1; i < samples.length; i++) {
      assert.deepEqual(samples[i].precpu_stats.cpu_usage.total_usage, samples[i - 1].cpu_stats.cpu_usage.total_usage);
      assert.ok(Date.parse(samples[i].read) > Date.parse(samples[i - 1].read));
    }
    assert.ok(samples.at(-1).cpu_stats.cpu_usage.total_usage > samples[0].cpu_stats.cpu_usage.total_usage, 'a busy loop uses CPU');
    // the CLI's streaming view prints rows until it is stopped
    const cli = spawn(DOCKER_BIN, ['stats', '--format', '{{.Name}} {{.CPUPerc}}', c], { env: env() });
    let out = '';
    cli.stdout.on('data', (b: Buffer) => (out += b.toString()));
    for (let i = 0; i < 100 && (out.match(new RegExp(c, 'g')) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    cli.kill('SIGKILL');
    assert.ok((out.match(new RegExp(c, 'g')) ?? []).length >= 2, out);
  });

  test('container prune with until keeps the containers created after it', async () => {
    const old = name('prune-old');
    const oldId = await d.dockerOk(['create', '--name', old, 'busybox']);
    await new Promise((r) => setTimeout(r, 2100));
    const cutoff = new Date(Date.now() - 1000).toISOString();
    const recent = name('prune-new');
    await d.dockerOk(['create', '--name', recent, 'busybox']);
    const out = await d.dockerOk(['container', 'prune', '-f', '--filter', `until=${cutoff}`]);
    assert.match(out, /Deleted Containers/);
    assert.ok(out.includes(oldId), out);
    assert.equal((await d.api('GET', `/containers/${old}/json`)).status, 404);
    assert.equal((await d.api('GET', `/containers/${recent}/json`)).status, 200);
    const bad = await d.docker(['container', 'prune', '-f', '--filter', 'until=yesterday-ish']);
    assert.notEqual(bad.code, 0);
  });
});
