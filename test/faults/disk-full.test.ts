// The data root's disk full (issue 11, item 2): a daemon on a small tmpfs data root whose space a
// filler file takes. run and build fail with Docker's 'no space left on device', nothing is
// half-made (invariants.ts), SQLite stays sound, and once the space is back both work.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon, recordRoot, runCommand } from '../e2e/harness.js';
import { invariantProblems } from './invariants.js';

describe('disk full', () => {
  let d: Daemon;
  let filler: string;

  const fill = async () => {
    // dd stops at ENOSPC: the filler takes whatever is free
    await runCommand('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M']);
  };

  before(async () => {
    const base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    d = new Daemon(base);
    await mkdir(d.dataRoot, { recursive: true });
    await mkdir(d.dockerConfig, { recursive: true });
    const m = await runCommand('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', d.dataRoot]);
    assert.equal(m.code, 0, m.stderr);
    filler = join(d.dataRoot, 'filler');
    await d.start();
    await d.ensureBusybox();
  });

  after(async () => {
    try {
      await d?.cleanup();
    } finally {
      if (d) await runCommand('umount', [d.dataRoot]);
    }
  });

  test('run and build fail with no space left on device, leave nothing, and work once space returns', async () => {
    await fill();
    const run = await d.docker(['run', '--name', 'full-run', '--network', 'none', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=8']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr + run.stdout, /no space left on device/i);
    const build = await d.docker(['build', '-t', 'full-build', '-'], { input: 'FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=8\n', env: { DOCKER_BUILDKIT: '0' } });
    assert.notEqual(build.code, 0);
    assert.match(build.stderr + build.stdout, /no space left on device/i);
    assert.deepEqual(await invariantProblems(d), []);

    await rm(filler, { force: true });
    await d.api('DELETE', '/containers/full-run?force=1');
    await d.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=8']);
    const again = await d.docker(['build', '-t', 'full-build', '-'], { input: 'FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=8\n', env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(again.code, 0, again.stderr);
    await d.dockerOk(['rmi', 'full-build']);
    assert.deepEqual(await invariantProblems(d), []);
  });
});
