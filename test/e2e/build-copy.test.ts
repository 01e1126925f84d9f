// COPY and ADD through `docker build` (classic builder, DOCKER_BUILDKIT=0) and what `docker run`
// then shows: owners, modes, mtimes, symlinks, unpacked archives and downloads as dockerd 20.10
// lays them out (the expected listings were taken from a private dockerd with the same context),
// .dockerignore, Docker's errors, and where the layer cache misses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';
import { tarOf } from '../fixtures/tar-of.js';

describe('docker build: COPY and ADD', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  let server: Server;
  let base: string;
  before(async () => {
    d = f.daemon();
    dir = await mkdtemp('/tmp/bt-build-copy-');
    server = createServer((rq, res) => {
      if (rq.url === '/files/hello.txt') {
        res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
        res.end('hello from http\n');
      } else {
        res.writeHead(404);
        res.end('not here');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_BUILDKIT: '0' });
  const build = (args: string[]) => d.docker(['build', ...args], { env: env(), timeoutMs: 180_000 });
  const run = (image: string, script: string) => d.dockerOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', script]);
  const STAT = `-exec stat -c '%n %u:%g %a %F' {} \\;`;

  /** a.txt (uid 1234, 0640, mtime 1600000000), dir/{b.txt, sub/ 0700 {c}, link -> b.txt, hard = b.txt}, t.tgz (bin/tool owned 3:4). */
  async function context(name: string): Promise<string> {
    const ctx = join(dir, name);
    await mkdir(join(ctx, 'dir/sub'), { recursive: true });
    await writeFile(join(ctx, 'a.txt'), 'alpha\n');
    await chmod(join(ctx, 'a.txt'), 0o640);
    await chown(join(ctx, 'a.txt'), 1234, 1234);
    await utimes(join(ctx, 'a.txt'), 1_600_000_000, 1_600_000_000);
    await writeFile(join(ctx, 'dir/b.txt'), 'b\n');
    await writeFile(join(ctx, 'dir/sub/c'), 'c\n');
    await chmod(join(ctx, 'dir/sub'), 0o700);
    await symlink('b.txt', join(ctx, 'dir/link'));
    await link(join(ctx, 'dir/b.txt'), join(ctx, 'dir/hard'));
    const src = join(dir, `${name}-tarsrc`);
    await mkdir(join(src, 'bin'), { recursive: true });
    await writeFile(join(src, 'bin/tool'), 't\n');
    execFileSync('chown', ['-R', '3:4', src]);
    execFileSync('tar', ['-C', src, '-czf', join(ctx, 't.tgz'), '.']);
    return ctx;
  }

  test('owners, modes and layout as dockerd lays them out', async () => {
    const ctx = await context('layout');
    await writeFile(join(ctx, 'Dockerfile'), [
      'FROM busybox',
      'COPY a.txt /new/deep/',
      'COPY --chown=1000:2000 a.txt /own/deep/',
      'COPY --chown=1000:2000 dir /owndir/sub',
      'COPY dir /tmp',
      'ADD t.tgz /ext',
      'ADD --chown=1000:2000 t.tgz /extown',
      `ADD ${base}/files/hello.txt /dl/`,
    ].join('\n'));
    const r = await build(['-t', 'copy-layout', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await run('copy-layout', `find /new /own /owndir /ext /extown /tmp /dl ${STAT}`);
    assert.deepEqual(out.split('\n').sort(), [
      '/dl 0:0 755 directory',
      '/dl/hello.txt 0:0 600 regular file',
      '/ext 0:0 755 directory',
      '/ext/bin 3:4 755 directory',
      '/ext/bin/tool 3:4 644 regular file',
      '/extown 0:0 755 directory',
      '/extown/bin 3:4 755 directory',
      '/extown/bin/tool 3:4 644 regular file',
      '/new 0:0 755 directory',
      '/new/deep 0:0 755 directory',
      '/new/deep/a.txt 0:0 640 regular file',
      '/own 1000:2000 755 directory',
      '/own/deep 1000:2000 755 directory',
      '/own/deep/a.txt 1000:2000 640 regular file',
      '/owndir 0:0 755 directory',
      '/owndir/sub 1000:2000 755 directory',
      '/owndir/sub/b.txt 1000:2000 644 regular file',
      '/owndir/sub/hard 1000:2000 644 regular file',
      '/owndir/sub/link 1000:2000 777 symbolic link',
      '/owndir/sub/sub 1000:2000 700 directory',
      '/owndir/sub/sub/c 1000:2000 644 regular file',
      '/tmp 0:0 1777 directory',
      '/tmp/b.txt 0:0 644 regular file',
      '/tmp/hard 0:0 644 regular file',
      '/tmp/link 0:0 777 symbolic link',
      '/tmp/sub 0:0 700 directory',
      '/tmp/sub/c 0:0 644 regular file',
    ]);
    // mtimes kept (COPY) or from Last-Modified (ADD of a URL); links stay links
    assert.equal(await run('copy-layout', 'stat -c %Y /new/deep/a.txt /dl/hello.txt; readlink /tmp/link; cat /dl/hello.txt'), `1600000000\n${Date.parse('2015-10-21T07:28:00Z') / 1000}\nb.txt\nhello from http`);
    const history = await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'copy-layout']);
    assert.match(history, /^\/bin\/sh -c #\(nop\) ADD [0-9a-f]{64} in \/dl\/ $/m);
    assert.match(history, /^\/bin\/sh -c #\(nop\) ADD file:[0-9a-f]{64} in \/ext $/m);
    assert.match(history, /^\/bin\/sh -c #\(nop\) COPY --chown=1000:2000dir:[0-9a-f]{64} in \/owndir\/sub $/m);
    assert.match(history, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/new\/deep\/ $/m);
  });

  test('globs, .dockerignore with an exception, --from a stage, WORKDIR-relative dest', async () => {
    const ctx = await context('globs');
    await mkdir(join(ctx, 'logs'));
    await writeFile(join(ctx, 'logs/keep.log'), 'kept\n');
    await writeFile(join(ctx, 'logs/drop.log'), 'dropped\n');
    await writeFile(join(ctx, 'x.txt'), 'x\n');
    await writeFile(join(ctx, '.dockerignore'), 'logs\n!logs/keep.log\n');
    await writeFile(join(ctx, 'Dockerfile'), [
      'FROM busybox AS stage',
      'RUN mkdir -p /out && echo staged > /out/file && ln -s /etc/hostname /out/abs && chown 5:6 /out/file',
      'FROM busybox',
      'WORKDIR /w',
      'COPY *.txt txt/',
      'COPY logs logs',
      'COPY --from=stage /out/ from/',
    ].join('\n'));
    const r = await build(['-t', 'copy-globs', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await run('copy-globs', 'cd /w && find . | sort; readlink from/abs');
    // --from without --chown keeps the stage's owners
    assert.equal(await run('copy-globs', 'stat -c %u:%g /w/from/file /w/txt/a.txt'), '5:6\n0:0');
    assert.equal(out, ['.', './from', './from/abs', './from/file', './logs', './logs/keep.log', './txt', './txt/a.txt', './txt/x.txt', '/etc/hostname'].join('\n'));
  });

  test('the layer cache misses from the COPY whose files changed, never for an ignored file', async () => {
    const ctx = await context('cache');
    await writeFile(join(ctx, 'ignored.log'), 'one');
    await writeFile(join(ctx, '.dockerignore'), '*.log\n');
    await writeFile(join(ctx, 'Dockerfile'), ['FROM busybox', 'COPY dir /d', 'COPY . /all', 'COPY a.txt /a'].join('\n'));
    const first = await build(['-t', 'copy-cache', ctx]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const uses = (s: string) => (s.match(/Using cache/g) ?? []).length;
    await writeFile(join(ctx, 'ignored.log'), 'two');
    await utimes(join(ctx, 'dir/b.txt'), 1, 1); // mtimes are not in the checksum
    const second = await build(['-t', 'copy-cache', ctx]);
    assert.equal(uses(second.stdout), 3, second.stdout);
    await writeFile(join(ctx, 'a.txt'), 'changed\n');
    const third = await build(['-t', 'copy-cache', ctx]);
    assert.equal(third.code, 0, third.stderr + third.stdout);
    assert.equal(uses(third.stdout), 1, third.stdout); // COPY dir hits; COPY . and COPY a.txt miss
    assert.equal(await run('copy-cache', 'cat /a; ls /all'), 'changed\nDockerfile\na.txt\ndir\nt.tgz');
  });

  test("a hostile archive for ADD: .. entries and the archive's own symlinks stay under dest", async () => {
    const ctx = join(dir, 'hostile');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'evil.tar'), await tarOf([
      { header: { name: '../../../escaped' }, body: 'inside\n' },
      { header: { name: 'etc-link', type: 'symlink', linkname: '/etc' } },
      { header: { name: 'etc-link/passwd' }, body: 'owned\n' },
    ]));
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nADD evil.tar /dest/\n');
    const r = await build(['-t', 'copy-hostile', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await run('copy-hostile', 'cat /dest/escaped /dest/etc/passwd; readlink /dest/etc-link; grep -c ^root: /etc/passwd; ls /escaped 2>&1 || true');
    assert.equal(out, 'inside\nowned\n/etc\n1\nls: /escaped: No such file or directory');
  });

  test("Docker's errors: a missing file, '..', several sources, an unreachable URL", async () => {
    const ctx = await context('errors');
    const fails = async (line: string, want: string) => {
      await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\n${line}\n`);
      const r = await build([ctx]);
      assert.notEqual(r.code, 0, line);
      assert.ok((r.stdout + r.stderr).includes(want), `${line}\n${r.stdout}${r.stderr}`);
    };
    await fails('COPY missing.txt /', 'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist');
    await fails('COPY ../x /', 'COPY failed: forbidden path outside the build context: ../x ()');
    // a link in the context to a host file resolves inside the context: the host's file is never read
    await symlink('/etc/hostname', join(ctx, 'host-link'));
    await fails('COPY host-link /x', 'COPY failed: file not found in build context or excluded by .dockerignore: stat host-link: file does not exist');
    await fails('COPY a.txt t.tgz /d', 'When using COPY with more than one source file, the destination must be a directory and end with a /');
    await fails('COPY *.none /', 'COPY failed: no source files were specified');
    await fails(`ADD ${base}/nope /`, `ADD failed: failed to GET ${base}/nope with status 404 Not Found: not here`);
    await fails(`COPY ${base}/files/hello.txt /`, "COPY failed: source can't be a URL for COPY");
  });
});
