// Exec records do not pile up for the life of a container (security review §10): health probes
// drop theirs as soon as the result is read; user execs stay inspectable after they exit (the
// CLI reads the exit code then) and leave the container's ExecIDs at once. Their removal after
// the grace period is covered by test/unit/exec-store.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { daemonForFile } from './harness.js';

describe('exec records', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  test('a health probe leaves no exec record behind', async () => {
    const name = f.name('xr-health');
    const filters = encodeURIComponent(JSON.stringify({ container: [name] }));
    const events = await d().stream('GET', `/events?filters=${filters}`, undefined, { timeoutMs: 60_000 });
    try {
      await d().dockerOk(['run', '-d', '--name', name, '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
      // Probes run one after the other: once a probe's exec is created, the previous one is done.
      const died: string[] = [];
      for await (const line of createInterface({ input: events })) {
        const ev = JSON.parse(line);
        if (ev.Action === 'exec_die') died.push(ev.Actor.Attributes.execID);
        if (died.length >= 3 && String(ev.Action).startsWith('exec_create')) break;
      }
      for (const id of died) {
        const r = await d().api('GET', `/exec/${id}/json`);
        assert.equal(r.status, 404, `probe exec ${id}: ${r.status} ${r.text}`);
      }
    } finally {
      events.destroy();
    }
  });

  test('100 execs: each inspectable with its exit code after it exits, none left in ExecIDs', async () => {
    const name = f.name('xr-many');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const created = await d().api('POST', `/containers/${name}/exec`, { Cmd: ['sh', '-c', `exit ${i % 3}`] });
      assert.equal(created.status, 201, created.text);
      const started = await d().api('POST', `/exec/${created.json.Id}/start`, { Detach: true });
      assert.equal(started.status, 200, started.text);
      ids.push(created.json.Id);
    }
    for (const [i, id] of ids.entries()) {
      let r = await d().api('GET', `/exec/${id}/json`);
      while (r.status === 200 && r.json.Running) {
        await new Promise((res) => setTimeout(res, 20));
        r = await d().api('GET', `/exec/${id}/json`);
      }
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ExitCode, i % 3);
    }
    const c = await f.inspect(name);
    assert.equal(c.ExecIDs, null);
  });
});
