// rm -f, kill and stop when the shim's exit notice is late (issue 11): on a starved machine
// conmon reported SIGKILLed containers' exits 10-20 s late and `rm -f` answered 500. As moby's
// daemon.Kill, berth then kills the container's processes directly and records the exit itself.
// Here conmon is SIGSTOPped, so it cannot report at all: the verbs must still succeed, record
// the exit once, and leave nothing behind (conmon, mount, cgroup, runc state).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, leakCheck } from './harness.js';
import { procState } from '../../src/runtime/direct-kill.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGKILL with a conmon that cannot report the exit', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  /** A running `sleep` whose conmon is stopped; returns its id and conmon's pid. */
  const runWithStoppedConmon = async (name: string) => {
    const r = await d().api('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none' } });
    assert.equal(r.status, 201, r.text);
    const id = r.json.Id as string;
    assert.equal((await d().api('POST', `/containers/${id}/start`)).status, 204);
    const conmon = Number((await readFile(join(d().execRoot, 'tasks', id, 'conmon.pid'), 'utf8')).trim());
    assert.ok(conmon > 0);
    process.kill(conmon, 'SIGSTOP');
    return { id, conmon };
  };

  /** Never leave a stopped process behind, whatever the test's outcome. */
  const release = (pid: number) => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone, as it should be
    }
  };

  const dieEvents = async (id: string): Promise<number> => {
    const filters = encodeURIComponent(JSON.stringify({ container: [id], event: ['die'] }));
    const r = await d().api('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${filters}`);
    assert.equal(r.status, 200, r.text);
    return r.text.split('\n').filter((l) => l.trim() !== '').length;
  };

  /** Nothing of the container is left on the host. */
  const nothingLeft = async (id: string, conmon: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const l = await leakCheck(d().dataRoot, d().execRoot);
      const left = [
        ...l.mounts.filter((m) => m.includes(id)),
        ...l.conmons.filter((c) => c.includes(id)),
        ...l.cgroups.filter((g) => g.endsWith(id)),
        ...l.runcState.filter((s) => s.endsWith(id)),
        ...(['R', 'S', 'D', 'T', 't'].includes((await procState(conmon)) ?? '') ? [`conmon ${conmon} alive`] : []),
        ...(await readdir(join(d().execRoot, 'tasks'))).filter((t) => t === id).map((t) => `task dir ${t}`),
      ];
      if (left.length === 0) return;
      if (Date.now() > deadline) assert.fail(`left behind: ${left.join(', ')}`);
      await sleep(100);
    }
  };

  test('rm -f succeeds, records the exit once and leaves nothing', { timeout: 120_000 }, async () => {
    const { id, conmon } = await runWithStoppedConmon(f.name('late-rm'));
    try {
      const r = await d().api('DELETE', `/containers/${id}?force=1`, undefined, { timeoutMs: 90_000 });
      assert.equal(r.status, 204, r.text);
      assert.equal((await d().api('GET', `/containers/${id}/json`)).status, 404);
      await nothingLeft(id, conmon);
      assert.equal(await dieEvents(id), 1, 'one die event');
      assert.ok(!existsSync(join(d().execRoot, 'exits', id)), 'no exit file left');
      assert.match(await d().log(), /killing its processes directly/);
    } finally {
      release(conmon);
    }
  });

  test('kill answers once the container is gone; it starts again and runs', { timeout: 120_000 }, async () => {
    const name = f.name('late-kill');
    const { id, conmon } = await runWithStoppedConmon(name);
    try {
      const r = await d().api('POST', `/containers/${id}/kill`, undefined, { timeoutMs: 90_000 });
      assert.equal(r.status, 204, r.text);
      const state = (await d().api('GET', `/containers/${id}/json`)).json.State;
      assert.equal(state.Status, 'exited');
      assert.equal(state.ExitCode, 137);
      await nothingLeft(id, conmon);
      assert.equal(await dieEvents(id), 1, 'one die event');
      // the old conmon is gone, so nothing can report this new run's exit early
      assert.equal((await d().api('POST', `/containers/${id}/start`)).status, 204);
      assert.equal((await d().api('GET', `/containers/${id}/json`)).json.State.Running, true);
      assert.equal((await d().api('DELETE', `/containers/${id}?force=1`)).status, 204);
      assert.equal(await dieEvents(id), 2, 'one die event per run');
    } finally {
      release(conmon);
    }
  });
});
