// A daemon killed in the middle of an attached `docker exec` (issue 8, item 7): the exec's
// client went with it, so the next daemon ends what is left of the session (runc, the process,
// its files), and the container itself runs on untouched.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_BIN, daemonForFile, findProcesses } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exec across a daemon killed mid-exec', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  const until = async (what: string, pred: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
      await sleep(50);
    }
  };

  /** Live processes (a zombie has no command line) running `sleep <marker>`. */
  const sleepers = (marker: string) => findProcesses([`sleep ${marker}`], 'sleep');

  test('SIGKILL during a long attached exec: restart ends the exec, the container runs on', async () => {
    const name = f.name('exec-death');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '100000']);
    const before = await f.inspect(name);
    const marker = '4321';

    const cli = spawn(DOCKER_BIN, ['exec', name, 'sleep', marker], {
      env: { ...process.env, DOCKER_HOST: `unix://${d().socket}`, DOCKER_CONFIG: d().dockerConfig },
      stdio: 'ignore',
    });
    const cliDone = new Promise((resolve) => cli.once('close', resolve));
    await until('the exec runs', async () => (await sleepers(marker)).length === 1);

    await d().stop('SIGKILL');
    await cliDone; // its stream ended with the daemon
    await d().start();

    const after = await f.inspect(name);
    assert.equal(after.State.Running, true);
    assert.equal(after.State.Pid, before.State.Pid);
    // the restart swept the session: no exec process, no runc, no session files
    await until('the exec process is gone', async () => (await sleepers(marker)).length === 0);
    assert.deepEqual(await findProcesses([join(d().execRoot, 'execs')]), []);
    const execs = join(d().execRoot, 'execs');
    assert.deepEqual(existsSync(execs) ? await readdir(execs) : [], []);
    // and the container still takes execs
    assert.equal(await d().dockerOk(['exec', name, 'echo', 'still here']), 'still here');
  });

  test('short attached execs keep every byte of their output and their exit code', async () => {
    const name = f.name('exec-short');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '100000']);
    for (let i = 0; i < 5; i++) {
      const r = await d().docker(['exec', name, 'sh', '-c', `echo out-${i}; echo err-${i} >&2; exit ${i + 2}`]);
      assert.equal(r.stdout, `out-${i}\n`);
      assert.equal(r.stderr, `err-${i}\n`);
      assert.equal(r.code, i + 2);
    }
    const execs = join(d().execRoot, 'execs');
    await until('session dirs removed', async () => (existsSync(execs) ? (await readdir(execs)).length === 0 : true));
  });
});
