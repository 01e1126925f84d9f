// Live restore, proven (issue 3, item 8): 20 containers survive the daemon dying (SIGKILL, then
// SIGTERM); the ones that exit while it is down get their real exit codes and times, the running
// ones keep their PIDs and their logs, restart policies apply, and `docker ps` agrees with
// `runc list`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { daemonForFile, leakCheck, leakCount, runCommand } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SLEEPERS = 7;
const TICKERS = 6;
const SHORT_EXITS = [3, 5, 7, 11, 13, 42]; // exit codes of the ones that exit during the downtime
const TICK = 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done';
// first run: exit 1 after a moment (during the downtime); once restarted: stay up
const ALWAYS = 'if [ -f /restarted-once ]; then exec sleep 1000; fi; touch /restarted-once; sleep 3; exit 1';

describe('live restore', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  const until = async (what: string, pred: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  const inspect = async (name: string) => {
    const r = await d().api('GET', `/containers/${name}/json`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };

  /** Running containers as runc sees them under the daemon's exec-root. */
  const runcRunning = async (): Promise<string[]> => {
    const r = await runCommand('runc', ['--root', join(d().execRoot, 'runc'), 'list', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const list = (JSON.parse(r.stdout || 'null') ?? []) as { id: string; status: string }[];
    return list.filter((c) => c.status === 'running').map((c) => c.id).sort();
  };

  const ticks = async (name: string): Promise<{ n: number[]; stamps: number[] }> => {
    const out = await d().dockerOk(['logs', '-t', name]);
    const n: number[] = [];
    const stamps: number[] = [];
    for (const line of out.split('\n')) {
      const m = /^(\S+) tick-(\d+)$/.exec(line);
      if (m) {
        stamps.push(Date.parse(m[1]!));
        n.push(Number(m[2]));
      }
    }
    return { n, stamps };
  };

  async function scenario(signal: 'SIGKILL' | 'SIGTERM', tag: string): Promise<void> {
    const sleepers = Array.from({ length: SLEEPERS }, (_, i) => f.name(`${tag}-sleep-${i}`));
    const tickers = Array.from({ length: TICKERS }, (_, i) => f.name(`${tag}-tick-${i}`));
    const shorts = SHORT_EXITS.map((code) => ({ name: f.name(`${tag}-short-${code}`), code }));
    const always = f.name(`${tag}-always`);

    for (const n of sleepers) await d().dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    for (const n of tickers) await d().dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', TICK]);
    await d().dockerOk(['run', '-d', '--restart', 'always', '--name', always, 'busybox', 'sh', '-c', ALWAYS]);
    // the short ones last, so that they are still running when the daemon goes down
    for (const s of shorts) await d().dockerOk(['run', '-d', '--name', s.name, 'busybox', 'sh', '-c', `sleep 3; exit ${s.code}`]);
    assert.equal(SLEEPERS + TICKERS + 1 + shorts.length, 20);

    const before = new Map<string, any>();
    for (const n of [...sleepers, ...tickers, ...shorts.map((s) => s.name), always]) before.set(n, await inspect(n));
    for (const [n, c] of before) assert.equal(c.State.Running, true, `${n} runs before the daemon goes down`);
    const ticksBefore = new Map<string, number>();
    for (const n of tickers) ticksBefore.set(n, Math.max(-1, ...(await ticks(n)).n));

    const downAt = Date.now();
    await d().stop(signal);
    // wait (without the daemon) until the short ones and the first run of `always` are gone
    for (const n of [...shorts.map((s) => s.name), always]) {
      const pid = before.get(n).State.Pid as number;
      await until(`${n} (pid ${pid}) exits while the daemon is down`, () => !existsSync(`/proc/${pid}`));
    }
    const upAt = Date.now();
    await d().start();

    for (const n of [...sleepers, ...tickers]) {
      const c = await inspect(n);
      assert.equal(c.State.Status, 'running', `${n} still runs`);
      assert.equal(c.State.Pid, before.get(n).State.Pid, `${n} keeps its PID`);
      assert.equal(existsSync(`/proc/${c.State.Pid}`), true);
    }
    for (const s of shorts) {
      const c = await inspect(s.name);
      assert.equal(c.State.Status, 'exited', `${s.name} exited during the downtime`);
      assert.equal(c.State.ExitCode, s.code, `${s.name}: its real exit code`);
      const finished = Date.parse(c.State.FinishedAt);
      assert.ok(finished >= downAt - 1000 && finished <= upAt + 1000, `${s.name}: FinishedAt ${c.State.FinishedAt} lies in the downtime`);
      assert.ok(finished > Date.parse(c.State.StartedAt));
    }
    // restart policy `always`: the container that died during the downtime runs again
    const a = await d().waitInspect(always, (c) => c.State.Status === 'running');
    assert.notEqual(a.State.Pid, before.get(always).State.Pid);

    // logs continue: new lines after the restart, and none missing while the daemon was down
    for (const n of tickers) {
      await until(`${n} logs grow after the restart`, async () => (await ticks(n)).stamps.some((t) => t > upAt));
      const { n: seen } = await ticks(n);
      assert.ok(Math.max(...seen) > ticksBefore.get(n)!);
      seen.forEach((v, i) => assert.equal(v, i, `${n}: tick ${i} in order, none lost`));
    }

    // docker ps agrees with runc
    const ps = (await d().dockerOk(['ps', '-q', '--no-trunc'])).split('\n').filter(Boolean).sort();
    assert.deepEqual(ps, await runcRunning());
    assert.equal(ps.length, SLEEPERS + TICKERS + 1);

    // everything can be stopped and removed
    const all = [...before.keys()];
    await d().dockerOk(['stop', '-t', '1', ...all], { timeoutMs: 120_000 });
    for (const n of all) assert.equal((await inspect(n)).State.Running, false);
    await d().dockerOk(['rm', ...all]);
    assert.deepEqual(await runcRunning(), []);
    // (cgroups: only ours; other daemons on this machine may have theirs)
    const ids = [...before.values()].map((c) => c.Id as string);
    const leaks = async () => {
      const l = await leakCheck(d().dataRoot, d().execRoot);
      return { ...l, cgroups: l.cgroups.filter((g) => ids.some((id) => g.endsWith(id))) };
    };
    await until('nothing left behind', async () => leakCount(await leaks()) === 0);
  }

  test('after SIGKILL of the daemon', { timeout: 180_000 }, async () => {
    await scenario('SIGKILL', 'lr-kill');
  });

  test('after SIGTERM of the daemon', { timeout: 180_000 }, async () => {
    await scenario('SIGTERM', 'lr-term');
  });
});
