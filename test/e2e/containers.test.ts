// Container lifecycle with the real docker CLI (and raw HTTP where the wire matters).
// Each test makes its own containers and removes them in afterEach.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readBody, startDaemon, type Daemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('containers', () => {
  let d: Daemon;
  let made: string[] = [];
  let imageId: string;

  /** A container name unique to this run, removed after the test. */
  const name = (n: string) => {
    made.push(n);
    return n;
  };

  before(async () => {
    d = await startDaemon();
    imageId = (await d.ensureBusybox()).imageId;
  });
  afterEach(async () => {
    for (const n of made) await d.api('DELETE', `/containers/${n}?force=1&v=1`);
    made = [];
  });
  after(async () => {
    await d?.cleanup();
  });

  test('create, start, inspect; 304 for start-when-running and stop-when-stopped', async () => {
    const n = name('life');
    const id = await d.dockerOk(['create', '--name', n, 'busybox', 'sleep', '1000']);
    assert.match(id, /^[0-9a-f]{64}$/);
    let c = JSON.parse(await d.dockerOk(['inspect', n]))[0];
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.Running, false);
    assert.equal(c.Id, id);

    assert.equal(await d.dockerOk(['start', n]), n);
    c = JSON.parse(await d.dockerOk(['inspect', n]))[0];
    assert.equal(c.State.Status, 'running');
    assert.ok(c.State.Pid > 0);
    assert.notEqual(c.State.StartedAt, '0001-01-01T00:00:00Z');

    const again = await d.api('POST', `/containers/${n}/start`);
    assert.equal(again.status, 304);
    assert.equal(again.text, '');

    const stop = await d.api('POST', `/containers/${n}/stop?t=0`);
    assert.equal(stop.status, 204, stop.text);
    const stopAgain = await d.api('POST', `/containers/${n}/stop`);
    assert.equal(stopAgain.status, 304);
    // the CLI treats 304 as success
    const cli = await d.docker(['stop', n]);
    assert.equal(cli.code, 0, cli.stderr);
  });

  test('stop -t 1 on a container that ignores TERM: SIGKILL after the timeout -> 137', async () => {
    const n = name('stubborn');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', "trap '' TERM; while :; do sleep 0.1; done"]);
    const t0 = Date.now();
    const r = await d.docker(['stop', '-t', '1', n]);
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took >= 900, `stop returned after ${took} ms, before the 1 s timeout`);
    assert.ok(took < 6000, `stop took ${took} ms`);
    const state = JSON.parse(await d.dockerOk(['inspect', '--format', '{{json .State}}', n]));
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 137);
  });

  test('stop sends StopSignal first: a TERM handler that exits 0 stops quickly', async () => {
    const n = name('polite');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.1; done"]);
    await sleep(300); // let sh install the trap
    const t0 = Date.now();
    await d.dockerOk(['stop', '-t', '10', n]);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await d.dockerOk(['inspect', '--format', '{{.State.ExitCode}}', n]), '0');
  });

  test('kill: default SIGKILL -> 137; -s USR1 reaches a handler; killing a stopped container is 409', async () => {
    const n = name('killme');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', "trap 'echo got-usr1' USR1; while :; do sleep 0.1; done"]);
    await sleep(300);
    await d.dockerOk(['kill', '-s', 'USR1', n]);
    const logs = await waitFor(async () => {
      const out = await d.dockerOk(['logs', n]);
      return out.includes('got-usr1') ? out : undefined;
    });
    assert.match(logs, /got-usr1/);
    assert.equal(await d.dockerOk(['inspect', '--format', '{{.State.Running}}', n]), 'true');
    await d.dockerOk(['kill', n]);
    await d.waitInspect(n, (c) => c.State.Status === 'exited');
    assert.equal(await d.dockerOk(['inspect', '--format', '{{.State.ExitCode}}', n]), '137');
    const r = await d.api('POST', `/containers/${n}/kill`);
    assert.equal(r.status, 409);
    assert.match(r.json.message, /is not running/);
  });

  test('kill -s TERM with a handler that exits 42 gives exit code 42', async () => {
    const n = name('term42');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', "trap 'exit 42' TERM; while :; do sleep 0.1; done"]);
    await sleep(300);
    await d.dockerOk(['kill', '-s', 'TERM', n]);
    const c = await d.waitInspect(n, (x) => x.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 42);
  });

  test('wait flushes its 200 before the container exits, then sends the exit code', async () => {
    const n = name('waiter');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'sleep 2; exit 5']);
    const t0 = Date.now();
    const res = await d.stream('POST', `/containers/${n}/wait`);
    const headersAfter = Date.now() - t0;
    assert.equal(res.statusCode, 200);
    const running = await d.api('GET', `/containers/${n}/json`);
    assert.equal(running.json.State.Running, true, 'the 200 arrived while the container still ran');
    assert.ok(headersAfter < 1500, `headers took ${headersAfter} ms`);
    const body = JSON.parse(await readBody(res));
    assert.equal(body.StatusCode, 5);
    assert.ok(Date.now() - t0 >= 1000);
  });

  test('wait conditions: not-running on an exited container returns at once; next-exit waits for the next run; removed waits for rm', async () => {
    const n = name('conds');
    await d.dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', 'exit 2']).catch(() => undefined);
    const done = await d.api('POST', `/containers/${n}/wait?condition=not-running`, undefined, { timeoutMs: 3000 });
    assert.equal(done.status, 200);
    assert.equal(done.json.StatusCode, 2);

    const next = await d.stream('POST', `/containers/${n}/wait?condition=next-exit`);
    assert.equal(next.statusCode, 200);
    const nextBody = readBody(next);
    await sleep(200);
    await d.dockerOk(['start', n]);
    assert.equal(JSON.parse(await nextBody).StatusCode, 2);

    const removed = await d.stream('POST', `/containers/${n}/wait?condition=removed`);
    assert.equal(removed.statusCode, 200);
    const removedBody = readBody(removed);
    let settled = false;
    void removedBody.then(() => (settled = true));
    await sleep(300);
    assert.equal(settled, false, 'condition=removed must not answer before the container is removed');
    await d.dockerOk(['rm', n]);
    assert.equal(JSON.parse(await removedBody).StatusCode, 2);

    const bad = await d.api('POST', `/containers/${name('conds2')}/wait?condition=bogus`);
    assert.ok(bad.status === 400 || bad.status === 404, `${bad.status}`);
  });

  test('docker wait prints the exit code', async () => {
    const n = name('cliwait');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'sleep 0.5; exit 9']);
    assert.equal(await d.dockerOk(['wait', n]), '9');
  });

  test('rm: a running container needs -f (409); -f and -v remove it', async () => {
    const n = name('rmme');
    const id = await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    const r = await d.docker(['rm', n]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot remove container .*container is running: stop the container before removing or force remove/i);
    const api = await d.api('DELETE', `/containers/${n}`);
    assert.equal(api.status, 409);
    assert.equal(await d.dockerOk(['rm', '-f', '-v', n]), n);
    const gone = await d.api('GET', `/containers/${id}/json`);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.message, `No such container: ${id}`);
  });

  test('list: all, limit, filters id/name/status/label/ancestor/exited', async () => {
    const a = name('lsa');
    const b = name('lsb');
    const c = name('lsc');
    const x = name('lsx');
    const idA = await d.dockerOk(['run', '-d', '--name', a, '--label', 'app=a', '--label', 'tier=web', 'busybox', 'sleep', '1000']);
    await d.dockerOk(['run', '--name', b, '--label', 'app=b', 'busybox', 'true']);
    await d.docker(['run', '--name', c, '--label', 'app=c', 'busybox', 'sh', '-c', 'exit 3']);
    await d.dockerOk(['create', '--name', x, 'busybox', 'true']);
    const names = async (args: string[]) => (await d.dockerOk(['ps', '--format', '{{.Names}}', ...args])).split('\n').filter(Boolean).sort();

    assert.deepEqual(await names([]), [a]);
    assert.deepEqual(await names(['-a']), [a, b, c, x].sort());
    assert.deepEqual(await names(['-a', '-n', '2']), [c, x].sort(), 'limit keeps the newest');
    assert.deepEqual(await names(['-a', '--latest']), [x]);
    assert.deepEqual(await names(['-a', '--filter', `id=${idA.slice(0, 12)}`]), [a]);
    assert.deepEqual(await names(['-a', '--filter', 'name=lsb']), [b]);
    assert.deepEqual(await names(['-a', '--filter', 'name=ls']), [a, b, c, x].sort(), 'name filter matches substrings');
    assert.deepEqual(await names(['-a', '--filter', 'status=exited']), [b, c].sort());
    assert.deepEqual(await names(['-a', '--filter', 'status=created']), [x]);
    assert.deepEqual(await names(['-a', '--filter', 'status=running']), [a]);
    assert.deepEqual(await names(['-a', '--filter', 'label=app=a']), [a]);
    assert.deepEqual(await names(['-a', '--filter', 'label=tier']), [a]);
    assert.deepEqual(await names(['-a', '--filter', 'label=app', '--filter', 'status=exited']), [b, c].sort());
    assert.deepEqual(await names(['-a', '--filter', 'ancestor=busybox']), [a, b, c, x].sort());
    assert.deepEqual(await names(['-a', '--filter', `ancestor=${imageId}`]), [a, b, c, x].sort());
    assert.deepEqual(await names(['-a', '--filter', 'exited=3']), [c]);
    assert.deepEqual(await names(['-a', '--filter', 'exited=0']), [b]);

    const bad = await d.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ bogus: ['1'] }))}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'invalid filter \'bogus\'');
    const sizes = await d.api('GET', '/containers/json?all=1&limit=1');
    assert.equal(sizes.json.length, 1);
    assert.equal(sizes.json[0].Names[0], `/${x}`);
  });

  test('logs: stdout and stderr stay separate, in logs and in run', async () => {
    const n = name('streams');
    const run = await d.docker(['run', '--name', n, 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, 'out\n');
    assert.equal(run.stderr, 'err\n');
    const logs = await d.docker(['logs', n]);
    assert.equal(logs.stdout, 'out\n');
    assert.equal(logs.stderr, 'err\n');
  });

  test('logs: timestamps, tail, since/until', async () => {
    const n = name('stamps');
    await d.docker(['run', '--name', n, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; sleep 1.2; echo late']);
    const ts = await d.dockerOk(['logs', '-t', n]);
    const lines = ts.split('\n');
    assert.equal(lines.length, 6);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line\d|^\S+Z late$/);
    assert.equal(await d.dockerOk(['logs', '--tail', '2', n]), 'line5\nlate');
    assert.equal(await d.dockerOk(['logs', '--tail', '0', n]), '');
    assert.equal(await d.dockerOk(['logs', '--tail', 'all', n]), 'line1\nline2\nline3\nline4\nline5\nlate');

    const stamp = (l: string) => l.split(' ')[0];
    const t5 = Date.parse(stamp(lines[4]));
    const tLate = Date.parse(stamp(lines[5]));
    assert.ok(tLate - t5 >= 1000);
    const mid = ((t5 + tLate) / 2 / 1000).toFixed(3);
    assert.equal(await d.dockerOk(['logs', '--since', mid, n]), 'late');
    assert.equal(await d.dockerOk(['logs', '--until', mid, n]), 'line1\nline2\nline3\nline4\nline5');
  });

  test('logs -f follows and ends when the container exits', async () => {
    const n = name('follow');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.4; done']);
    const t0 = Date.now();
    const r = await d.docker(['logs', '-f', n], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'n1\nn2\nn3\n');
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('Env, WorkingDir, User, Entrypoint and Labels reach the container', async () => {
    const n = name('config');
    const r = await d.docker([
      'run', '--name', n, '-e', 'FOO=bar baz', '--env', 'EMPTY=', '-w', '/tmp/work', '-u', '65534:65534', '--label', 'team=ops',
      '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo "$FOO|$EMPTY|$(pwd)|$(id -u):$(id -g)|$HOME|$PATH|$(hostname)"',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [foo, empty, cwd, ids, home, path, host] = r.stdout.trim().split('|');
    assert.equal(foo, 'bar baz');
    assert.equal(empty, '');
    assert.equal(cwd, '/tmp/work', 'WorkingDir is created when missing, as in Docker');
    assert.equal(ids, '65534:65534');
    assert.equal(home, '/home', 'HOME comes from /etc/passwd of the user');
    assert.equal(path, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const c = JSON.parse(await d.dockerOk(['inspect', n]))[0];
    assert.equal(host, c.Id.slice(0, 12));
    assert.deepEqual(c.Config.Entrypoint, ['/bin/sh']);
    assert.equal(c.Config.WorkingDir, '/tmp/work');
    assert.equal(c.Config.User, '65534:65534');
    assert.deepEqual(c.Config.Labels, { team: 'ops' });
    assert.ok(c.Config.Env.includes('FOO=bar baz'));
    assert.equal(c.Path, '/bin/sh');
    assert.deepEqual(c.Args, ['-c', c.Config.Cmd[1]]);
  });

  test('a named user resolves through the image /etc/passwd', async () => {
    const r = await d.docker(['run', '--rm', '-u', 'nobody', 'busybox', 'id']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uid=65534\(nobody\) gid=65534\(nobody\)/);
  });

  test('exit codes pass through docker run', async () => {
    for (const code of [0, 1, 42, 255]) {
      const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', `exit ${code}`]);
      assert.equal(r.code, code);
    }
  });

  test('a missing command gives exit code 127 and a clear message', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'no-such-command'], { timeoutMs: 20_000 });
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /no-such-command.*(executable file not found in \$PATH|no such file or directory)/);
  });

  test('name conflict is 409 with Docker\'s message', async () => {
    const n = name('dup');
    const id = await d.dockerOk(['create', '--name', n, 'busybox']);
    const r = await d.docker(['run', '-d', '--name', n, 'busybox']);
    assert.equal(r.code, 125, 'docker run exits 125 when the daemon refuses');
    assert.match(
      r.stderr,
      new RegExp(`Conflict\\. The container name "/${n}" is already in use by container "${id}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`),
    );
    const api = await d.api('POST', `/containers/create?name=${n}`, { Image: 'busybox' });
    assert.equal(api.status, 409);
  });

  test('lookup by name, /name, full ID and unique ID prefix', async () => {
    const n = name('lookup');
    const id = await d.dockerOk(['create', '--name', n, 'busybox']);
    for (const ref of [n, `/${n}`, id, id.slice(0, 12), id.slice(0, 4)]) {
      const r = await d.api('GET', `/containers/${encodeURIComponent(ref)}/json`);
      assert.equal(r.status, 200, `${ref}: ${r.text}`);
      assert.equal(r.json.Id, id);
    }
    const none = await d.api('GET', '/containers/zzzz-missing/json');
    assert.equal(none.status, 404);
    assert.equal(none.json.message, 'No such container: zzzz-missing');
  });

  test('an ambiguous ID prefix is a 400-class error, not a guess', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await d.dockerOk(['create', '--name', name(`amb${i}`), 'busybox']));
    // with 20 IDs, some pair shares its first hex digit
    const first = ids.map((x) => x[0]);
    const shared = first.find((ch, i) => first.indexOf(ch) !== i)!;
    const r = await d.api('GET', `/containers/${shared}/json`);
    assert.notEqual(r.status, 200);
    assert.match(r.json.message, /multiple IDs found with provided prefix|ambiguous/i);
  });
});

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}
