// `berth build` against the real daemon's classic builder: the context tarred by the CLI
// (.dockerignore applied), the output streamed as Docker's, -q and --iidfile giving the image
// ID, build args, a Dockerfile outside the context, and a failing RUN's exit code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BERTH_BIN, runCommand, startDaemon, type Daemon } from './harness.js';

describe('berth build', () => {
  let d: Daemon;
  let dir: string;
  const berth = (args: string[]) => runCommand(process.execPath, [BERTH_BIN, '-H', `unix://${d.socket}`, ...args], { timeoutMs: 120_000 });

  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    dir = await mkdtemp('/tmp/bt-clibuild-');
  });
  after(async () => {
    await d?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function context(name: string, dockerfile: string, files: Record<string, string> = {}): Promise<string> {
    const ctx = join(dir, name);
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), dockerfile);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(ctx, path, '..'), { recursive: true });
      await writeFile(join(ctx, path), text);
    }
    return ctx;
  }

  test('builds a tagged image from a directory, leaving out what .dockerignore excludes', async () => {
    const ctx = await context('basic', 'FROM busybox\nARG GREETING=hello\nCOPY . /ctx/\nRUN echo "$GREETING from build" > /greeting\nCMD ["cat", "/greeting"]\n', {
      'app/main.txt': 'main',
      'secret/key': 'do not send',
      '.dockerignore': 'secret\n',
    });
    const r = await berth(['build', '-t', 'cli-build:one', '-t', 'cli-build:two', '--build-arg', 'GREETING=hi', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^Sending build context to the berth daemon +\d+(\.\d+)?kB\n/);
    assert.match(r.stdout, /Step 1\/5 : FROM busybox\n/);
    assert.match(r.stdout, /Step 4\/5 : RUN echo "\$GREETING from build" > \/greeting\n/);
    const built = /Successfully built ([0-9a-f]{12})\n/.exec(r.stdout);
    assert.ok(built, r.stdout);
    assert.match(r.stdout, /Successfully tagged cli-build:one\nSuccessfully tagged cli-build:two\n$/);
    const inspect = (await d.api('GET', '/images/cli-build:two/json')).json;
    assert.equal(inspect.Id.slice(7, 19), built[1]);
    assert.equal(await d.dockerOk(['run', '--rm', '--network', 'none', 'cli-build:one']), 'hi from build');
    const files = await d.dockerOk(['run', '--rm', '--network', 'none', 'cli-build:one', 'find', '/ctx', '-type', 'f']);
    // .dockerignore itself travels, and stays as the patterns do not name it (as with Docker)
    assert.deepEqual(files.split('\n').sort(), ['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/app/main.txt']);
  });

  test('-q prints the image ID only, --iidfile writes it; a Dockerfile outside the context is used', async () => {
    const ctx = await context('quiet', 'FROM busybox\nRUN true\n', { 'data.txt': 'data' });
    const outside = join(dir, 'Outside.dockerfile');
    await writeFile(outside, 'FROM busybox\nCOPY data.txt /data.txt\nLABEL from=outside\n');
    const iid = join(dir, 'iid');
    const r = await berth(['build', '-q', '-f', outside, '--iidfile', iid, '-t', 'cli-build:outside', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    // the docker CLI writes -q's output as it came, newline included
    assert.equal(await readFile(iid, 'utf8'), r.stdout);
    const inspect = (await d.api('GET', '/images/cli-build:outside/json')).json;
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Config.Labels.from, 'outside');
    assert.equal(await d.dockerOk(['run', '--rm', '--network', 'none', 'cli-build:outside', 'cat', '/data.txt']), 'data');
  });

  test('a context tar on stdin (`berth build -`)', async () => {
    const ctx = await context('stdin', 'FROM busybox\nCOPY hello.txt /hello.txt\n', { 'hello.txt': 'from stdin' });
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const r = await runCommand('sh', ['-c', `tar -C ${q(ctx)} -c . | ${q(process.execPath)} ${q(BERTH_BIN)} -H ${q(`unix://${d.socket}`)} build -t cli-build:stdin -`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Successfully tagged cli-build:stdin\n$/);
    assert.equal(await d.dockerOk(['run', '--rm', '--network', 'none', 'cli-build:stdin', 'cat', '/hello.txt']), 'from stdin');
  });

  test('a failing RUN: the step output, the error on stderr, its exit code', async () => {
    const ctx = await context('failing', 'FROM busybox\nRUN echo about to fail && exit 3\n');
    const r = await berth(['build', ctx]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /Step 2\/2 : RUN echo about to fail && exit 3\n/);
    assert.match(r.stdout, /about to fail\n/);
    assert.equal(r.stderr, "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3\n");
  });
});
