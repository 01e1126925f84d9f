// Crash anywhere (issue 11, item 2): for each fault point (scenarios.ts) the daemon is started
// with BERTH_FAULT set, the operation that reaches the point is run, the daemon SIGKILLs itself
// there, and a daemon without the fault is started on the same roots. Then: a container started
// before the crash still runs with the same pid, the invariants hold (invariants.ts: API views =
// SQLite rows = dirs, no orphan mount/conmon/runc state/cgroup/netns/sandbox/layer/blob, SQLite
// integrity_check ok), and the operation, retried, succeeds (the invariants hold again after).
// A point is swept over several n (BERTH_FAULT=<point>:<n>, the n-th pass: the 2nd layer, the
// 2nd RUN step...), so faults land at different depths. The CI form runs the scenarios marked
// ci (a sample: mostly the first n of each point); BERTH_FAULTS=all (`npm run faults`) runs all
// of them; BERTH_FAULT_ONLY=<point>,... runs those points' scenarios.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { leakCheck, leakCount, startDaemon, testRegistry, type Daemon } from '../e2e/harness.js';
import { invariantProblems, tally } from './invariants.js';
import { MORE_SCENARIOS } from './more-scenarios.js';
import { SCENARIOS, type Ctx } from './scenarios.js';

const ALL = process.env.BERTH_FAULTS === 'all';
const only = process.env.BERTH_FAULT_ONLY?.split(',');

function deathWithin<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

describe('crash anywhere: SIGKILL at each fault point, restart, invariants, retry', () => {
  let d: Daemon;
  let registry: { host: string; stop(): Promise<void> };
  const made = new Set<string>();
  let sentinel: { id: string; pid: number };
  let injected = 0;
  const points = new Set<string>();
  const ctx = (): Ctx => ({ d, registry: registry.host, made: (id) => made.add(id) });

  before(async () => {
    registry = await testRegistry();
    d = await startDaemon();
    await d.ensureBusybox();
    // started before every crash: it must run through all of them, same process
    const id = await d.dockerOk(['run', '-d', '--name', 'f-sentinel', '-p', '127.0.0.1::80', 'busybox', 'sleep', '100000']);
    made.add(id);
    sentinel = { id, pid: (await d.waitInspect(id, (j) => j.State.Running)).State.Pid };
  });

  after(async () => {
    try {
      await d?.cleanup();
      // with the daemon stopped: nothing of its containers, networks or mounts is left
      if (d) {
        const leaks = await leakCheck(d.dataRoot, d.execRoot);
        assert.equal(leakCount({ ...leaks, cgroups: leaks.cgroups.filter((c) => [...made].some((id) => c.endsWith(id))) }), 0, JSON.stringify(leaks, null, 1));
      }
    } finally {
      await registry?.stop();
      console.log(`crash-anywhere: ${points.size} points, ${injected} faults injected, invariants checked ${tally.runs} times (${tally.comparisons} objects compared)`);
    }
  });

  for (const s of [...SCENARIOS, ...MORE_SCENARIOS]) {
    const spec = s.n ? `${s.point}:${s.n}` : s.point;
    const skip = only ? !only.includes(s.point) : !ALL && !s.ci;
    test(s.label ?? spec, { skip }, async () => {
      const c = ctx();
      // one scenario that failed with the daemon down must not fail every one after it
      if (!d.running) await d.start();
      await s.setup?.(c);
      await d.stop('SIGTERM');
      d.env.BERTH_FAULT = spec;
      try {
        // a point the daemon's own start reaches (a rotation due at once) kills it here
        const started = await d.start().then(() => true, async (err: Error) => {
          if (!(await d.log()).includes(`fault point ${s.point} reached`)) throw err;
          return false;
        });
        const op = started ? s.op(c) : Promise.resolve();
        const died = await deathWithin(d.waitExit(), 60_000);
        await op;
        assert.notEqual(died, 'timeout', `${spec}: the daemon did not die at the point`);
      } finally {
        delete d.env.BERTH_FAULT;
        await d.stop('SIGKILL');
      }
      assert.match(await d.log(), new RegExp(`fault point ${s.point.replace(/\./g, '\\.')} reached`));
      injected++;
      points.add(s.point);
      await d.start();

      const st = await d.waitInspect(sentinel.id, () => true);
      assert.equal(st.State.Running, true, 'the sentinel runs through the crash');
      assert.equal(st.State.Pid, sentinel.pid, 'the same process');
      assert.deepEqual(await invariantProblems(d, made), [], `${spec}: after the restart`);
      await s.retry(c);
      assert.deepEqual(await invariantProblems(d, made), [], `${spec}: after the retry`);
    });
  }
});
