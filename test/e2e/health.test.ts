// Health checks with the real docker CLI: starting -> healthy, failing -> unhealthy after the
// retries, a timed-out probe, the ps STATUS and health filter, and health_status events.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('health checks', () => {
  const f = daemonForFile();
  const { name } = f;
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  test('a passing check turns healthy, shows in ps and emits health_status', async () => {
    const n = name('hc-ok');
    const since = Math.floor(Date.now() / 1000) - 1;
    await d.dockerOk(['run', '-d', '--name', n, '--health-cmd', 'echo probe-ran', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
    const first = JSON.parse(await d.dockerOk(['inspect', n]))[0];
    assert.equal(first.State.Health.Status, 'starting');
    const c = await d.waitInspect(n, (x) => x.State.Health?.Status === 'healthy', 20_000);
    assert.equal(c.State.Health.FailingStreak, 0);
    assert.equal(c.State.Health.Log.at(-1).ExitCode, 0);
    assert.equal(c.State.Health.Log.at(-1).Output, 'probe-ran\n');
    assert.match(await d.dockerOk(['ps', '--filter', `name=${n}`, '--format', '{{.Status}}']), /\(healthy\)$/);
    assert.equal(await d.dockerOk(['ps', '-q', '--filter', 'health=healthy', '--filter', `name=${n}`]), c.Id.slice(0, 12));
    const events = await d.dockerOk(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${n}`, '--format', '{{.Action}}']);
    assert.match(events, /^health_status: healthy$/m);
  });

  test('a failing check turns unhealthy after the retries', async () => {
    const n = name('hc-bad');
    await d.dockerOk(['run', '-d', '--name', n, '--health-cmd', 'exit 1', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '1000']);
    const c = await d.waitInspect(n, (x) => x.State.Health?.Status === 'unhealthy', 20_000);
    assert.ok(c.State.Health.FailingStreak >= 2);
    assert.equal(c.State.Health.Log.at(-1).ExitCode, 1);
  });

  test('a probe over its timeout fails with Docker\'s message', async () => {
    const n = name('hc-slow');
    await d.dockerOk(['run', '-d', '--name', n, '--health-cmd', 'sleep 5', '--health-interval', '1s', '--health-timeout', '1s', '--health-retries', '1', 'busybox', 'sleep', '1000']);
    const c = await d.waitInspect(n, (x) => x.State.Health?.Status === 'unhealthy', 20_000);
    assert.equal(c.State.Health.Log.at(-1).ExitCode, -1);
    assert.match(c.State.Health.Log.at(-1).Output, /Health check exceeded timeout \(1s\)/);
  });

  test('--no-healthcheck and containers without one have no Health', async () => {
    const n = name('hc-none');
    await d.dockerOk(['run', '-d', '--name', n, '--no-healthcheck', 'busybox', 'sleep', '1000']);
    const c = JSON.parse(await d.dockerOk(['inspect', n]))[0];
    assert.equal(c.State.Health, undefined);
  });
});
