// Restart policies with the real docker CLI: on-failure:N, always, unless-stopped, and what a
// daemon restart brings back.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('restart policies', () => {
  const f = daemonForFile();
  const { name, inspect } = f;
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  test('on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    const n = name('of2');
    await d.dockerOk(['run', '-d', '--name', n, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
    const c = await d.waitInspect(n, (x) => x.State.Status === 'exited' && x.RestartCount === 2, 20_000);
    assert.equal(c.State.ExitCode, 3);
    assert.equal(c.HostConfig.RestartPolicy.Name, 'on-failure');
    // and it stays that way
    await new Promise((r) => setTimeout(r, 1500));
    const later = await inspect(n);
    assert.equal(later.RestartCount, 2);
    assert.equal(later.State.Status, 'exited');
  });

  test('on-failure does not restart a clean exit', async () => {
    const n = name('of0');
    await d.dockerOk(['run', '-d', '--name', n, '--restart', 'on-failure', 'busybox', 'true']);
    await d.waitInspect(n, (x) => x.State.Status === 'exited');
    await new Promise((r) => setTimeout(r, 800));
    const c = await inspect(n);
    assert.equal(c.RestartCount, 0);
    assert.equal(c.State.Status, 'exited');
  });

  test('always restarts after each exit; docker stop ends it and it stays stopped', async () => {
    const n = name('alw');
    await d.dockerOk(['run', '-d', '--name', n, '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 1']);
    await d.waitInspect(n, (x) => x.RestartCount >= 2, 20_000);
    await d.dockerOk(['stop', '-t', '1', n]);
    const stopped = await d.waitInspect(n, (x) => x.State.Status === 'exited');
    const count = stopped.RestartCount;
    await new Promise((r) => setTimeout(r, 1500));
    const later = await inspect(n);
    assert.equal(later.State.Status, 'exited');
    assert.equal(later.RestartCount, count);
    // a user's start resets the count
    await d.dockerOk(['start', n]);
    assert.equal((await inspect(n)).RestartCount, 0);
  });

  test('a daemon restart brings back always containers but not hand-stopped unless-stopped ones', async () => {
    const always = name('dr-always');
    const unless = name('dr-unless');
    const unlessRunning = name('dr-unless-run');
    const none = name('dr-none');
    for (const [n, policy] of [[always, 'always'], [unless, 'unless-stopped'], [unlessRunning, 'unless-stopped'], [none, 'no']] as const) {
      await d.dockerOk(['run', '-d', '--name', n, '--restart', policy, 'busybox', 'sleep', '1000']);
    }
    await d.dockerOk(['stop', '-t', '0', always, unless, none]);
    const runningPid = (await inspect(unlessRunning)).State.Pid;
    await d.restart();
    assert.equal((await inspect(always)).State.Status, 'running');
    assert.equal((await inspect(unless)).State.Status, 'exited');
    assert.equal((await inspect(none)).State.Status, 'exited');
    const kept = await inspect(unlessRunning);
    assert.equal(kept.State.Status, 'running');
    assert.equal(kept.State.Pid, runningPid);
  });

  test('rm -f of a container waiting out its back-off', async () => {
    const n = name('rmr');
    await d.dockerOk(['run', '-d', '--name', n, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    await d.waitInspect(n, (x) => x.RestartCount >= 3, 20_000);
    await d.dockerOk(['rm', '-f', n]);
    assert.equal((await d.api('GET', `/containers/${n}/json`)).status, 404);
  });
});
