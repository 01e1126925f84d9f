// COPY/ADD --chmod (issue 10): Docker 28's classic builder refuses the flag but BuildKit has it,
// and issue 10 asks for it: every copied file and directory gets the mode (symlinks keep theirs),
// as BuildKit lays it out, and the mode is part of the step's cache key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';

describe('docker build: COPY/ADD --chmod', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  before(async () => {
    d = f.daemon();
    dir = await mkdtemp('/tmp/bt-build-chmod-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, DOCKER_BUILDKIT: '0' });
  const build = (args: string[]) => d.docker(['build', ...args], { env: env(), timeoutMs: 180_000 });

  test('the mode applies to files and directories, and a different mode misses the cache', async () => {
    const ctx = join(dir, 'ctx');
    await mkdir(join(ctx, 'dir/sub'), { recursive: true });
    await writeFile(join(ctx, 'a.txt'), 'a\n');
    await writeFile(join(ctx, 'dir/sub/b.txt'), 'b\n');
    await symlink('sub/b.txt', join(ctx, 'dir/link'));
    const dockerfile = (mode: string) => ['FROM busybox', `COPY --chmod=${mode} a.txt /m/`, 'ADD --chmod=0600 dir /d'].join('\n');
    await writeFile(join(ctx, 'Dockerfile'), dockerfile('750'));
    let r = await build(['-t', 'chmod-a', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await d.dockerOk(['run', '--rm', 'chmod-a', 'sh', '-c', "stat -c '%n %a %F' /m/a.txt /d /d/sub /d/sub/b.txt /d/link"]);
    assert.equal(out, ['/m/a.txt 750 regular file', '/d 755 directory', '/d/sub 600 directory', '/d/sub/b.txt 600 regular file', '/d/link 777 symbolic link'].join('\n'));
    const history = await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'chmod-a']);
    assert.match(history, /^\/bin\/sh -c #\(nop\) COPY --chmod=0750 file:[0-9a-f]{64} in \/m\/ $/m);

    await writeFile(join(ctx, 'Dockerfile'), dockerfile('0644'));
    r = await build(['-t', 'chmod-b', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout.split('Step 2/3')[1].split('Step 3/3')[0], /Using cache/);
    assert.equal(await d.dockerOk(['run', '--rm', 'chmod-b', 'stat', '-c', '%a', '/m/a.txt']), '644');

    await writeFile(join(ctx, 'Dockerfile'), dockerfile('u+x'));
    r = await build([ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid chmod parameter: 'u\+x'. it should be octal string and between 0 and 07777/);
  });
});
