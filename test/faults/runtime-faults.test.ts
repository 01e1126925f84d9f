// The runtime failing under berth (issue 11, item 2): a runtime binary that is missing or exits 1
// gives a clear error on run and leaves nothing half-made; conmon killed under a running
// container is seen as the container's exit (state, exit code) and leaves nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProcesses, startDaemon, type Daemon } from '../e2e/harness.js';
import { invariantProblems } from './invariants.js';

describe('runtime faults', () => {
  let d: Daemon;
  const made = new Set<string>();

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-faults-rt-'));
    const failing = join(dir, 'failing-runtime');
    await writeFile(failing, '#!/bin/sh\necho "failing-runtime: refused" >&2\nexit 1\n');
    await chmod(failing, 0o755);
    const config = join(dir, 'daemon.json');
    await writeFile(config, JSON.stringify({ runtimes: { failing: { path: failing }, missing: { path: join(dir, 'no-such-runc') } } }));
    d = await startDaemon({ args: ['--config-file', config] });
    await d.ensureBusybox();
  });

  after(async () => {
    await d?.cleanup();
  });

  for (const runtime of ['missing', 'failing']) {
    test(`a ${runtime} runtime: run fails with the runtime's error, nothing half-made, runc still works`, async () => {
      const r = await d.docker(['run', '--name', `rt-${runtime}`, '--runtime', runtime, '-p', '127.0.0.1::80', '-v', `rt-vol-${runtime}:/data`, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, runtime === 'missing' ? /no such file or directory/i : /failing-runtime: refused|exit status 1/, r.stderr);
      const st = await d.waitInspect(`rt-${runtime}`, () => true);
      made.add(st.Id);
      assert.equal(st.State.Running, false);
      assert.notEqual(st.State.Error, '', 'the failure is recorded in State.Error');
      assert.deepEqual(await invariantProblems(d, made), []);
      await d.dockerOk(['rm', '-v', `rt-${runtime}`]);
      await d.dockerOk(['volume', 'rm', `rt-vol-${runtime}`]);
      assert.equal(await d.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'ok']), 'ok');
      assert.deepEqual(await invariantProblems(d, made), []);
    });
  }

  test('conmon killed under a running container: berth sees it exit, nothing is left, it starts again', async () => {
    const id = await d.dockerOk(['run', '-d', '--name', 'rt-conmon', '-p', '127.0.0.1::80', 'busybox', 'sleep', '100000']);
    made.add(id);
    const conmons = (await findProcesses([id], 'conmon')).filter((p) => p.args.includes(` -c ${id}`));
    assert.equal(conmons.length, 1, JSON.stringify(conmons));
    process.kill(conmons[0]!.pid, 'SIGKILL');
    const st = await d.waitInspect('rt-conmon', (j) => !j.State.Running, 30_000);
    assert.notEqual(st.State.ExitCode, 0, 'an exit code says it did not end by itself');
    // the exit is recorded before its cleanup (task, mount, network) is done: wait for that
    const deadline = Date.now() + 20_000;
    let problems = await invariantProblems(d, made);
    while (problems.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      problems = await invariantProblems(d, made);
    }
    assert.deepEqual(problems, []);
    await d.dockerOk(['start', 'rt-conmon']);
    await d.waitInspect('rt-conmon', (j) => j.State.Running);
    await d.dockerOk(['rm', '-f', 'rt-conmon']);
    assert.deepEqual(await invariantProblems(d, made), []);
  });
});
