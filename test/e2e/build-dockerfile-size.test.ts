// A Dockerfile over 16 MiB in the build context (issue 11): refused with a clear message before
// the daemon reads it (it used to be read whole into memory, a 1 GB one failing oddly), and the
// daemon builds the next context as ever. The 1 GB case is in test/unit/build-context.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile } from './harness.js';

describe('docker build: Dockerfile size cap', () => {
  const f = daemonForFile();
  let dir: string;
  before(async () => {
    dir = await mkdtemp('/tmp/bt-build-size-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a 17 MiB Dockerfile is refused clearly; a small one builds after it', { timeout: 180_000 }, async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${f.daemon().socket}`, DOCKER_BUILDKIT: '0' };
    const big = join(dir, 'big');
    await mkdir(big);
    await writeFile(join(big, 'Dockerfile'), `FROM busybox\n${`# ${'x'.repeat(1022)}\n`.repeat(17 * 1024)}`);
    const r = await f.daemon().docker(['build', big], { env, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Dockerfile exceeds the maximum allowed size of 16777216 bytes \(16 MiB\)/);
    const small = join(dir, 'small');
    await mkdir(small);
    await writeFile(join(small, 'Dockerfile'), 'FROM busybox\nLABEL size=small\n');
    const ok = await f.daemon().docker(['build', '-q', '-t', 'size-small', small], { env, timeoutMs: 120_000 });
    assert.equal(ok.code, 0, ok.stderr);
    await f.daemon().docker(['rmi', 'size-small']);
  });
});
