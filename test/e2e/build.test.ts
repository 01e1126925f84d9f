// docker build with the classic builder (issue 10 item 4; item 6's Dockerfile syntax error and
// 1 GB context): the docker CLI 28 with DOCKER_BUILDKIT=0 against POST /build, the raw stream's
// shape, the layer cache, and the context's limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DOCKER_BIN, daemonForFile, prepareFixtures, rawRequest, readBody, runCommand, testRegistry, type Daemon } from './harness.js';
import { startHtpasswdRegistry } from '../fixtures/auth-registry.js';
import { pushImage } from '../fixtures/registry.js';
import { dockerPyEmits } from './python.js';

describe('docker build (classic builder)', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  before(async () => {
    d = f.daemon();
    dir = await mkdtemp('/tmp/bt-build-ctx-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_BUILDKIT: '0' });
  const build = (args: string[], input?: string) => d.docker(['build', ...args], { env: env(), timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });

  /** A fresh context dir with these files. */
  async function context(name: string, files: Record<string, string>): Promise<string> {
    const ctx = join(dir, name);
    await rm(ctx, { recursive: true, force: true });
    for (const [p, text] of Object.entries(files)) {
      await mkdir(join(ctx, p, '..'), { recursive: true });
      await writeFile(join(ctx, p), text);
    }
    return ctx;
  }

  async function containerCount(): Promise<number> {
    return (await d.api('GET', '/containers/json?all=1')).json.length;
  }

  const MULTI = [
    'ARG BASE=busybox',
    'FROM ${BASE} AS builder',
    'ARG GREETING=hello',
    'WORKDIR /src',
    'COPY app.txt ./',
    'RUN echo "$GREETING from $(cat app.txt)" > out.txt',
    'FROM busybox',
    'LABEL org.example.name="multi stage" version=1',
    'ENV APP_HOME=/app PATH_EXTRA=x',
    'WORKDIR $APP_HOME',
    'COPY --from=builder /src/out.txt ./',
    'ADD app.txt /app/added.txt',
    'USER 1000:1000',
    'EXPOSE 8080/tcp 53/udp',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
    'SHELL ["/bin/sh", "-c"]',
    'ENTRYPOINT ["cat"]',
    'CMD ["/app/out.txt"]',
  ].join('\n');

  test('a multi-stage Dockerfile: every step, the config, the files, the stream', async () => {
    const ctx = await context('multi', { Dockerfile: MULTI, 'app.txt': 'the app\n' });
    const before = await containerCount();
    const r = await build(['-t', 'built-multi:v1', '-t', 'built-multi:v2', '--build-arg', 'GREETING=hi', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^Step 1\/19 : ARG BASE=busybox$/m);
    assert.match(r.stdout, /^Step 2\/19 : FROM \$\{BASE\} AS builder$/m);
    assert.match(r.stdout, /^ ---> Running in [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Removing intermediate container [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Successfully built [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Successfully tagged built-multi:v1$/m);
    assert.match(r.stdout, /^Successfully tagged built-multi:v2$/m);
    assert.equal(await containerCount(), before, 'no intermediate containers left');

    const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'built-multi:v1']))[0];
    const c = img.Config;
    assert.deepEqual(c.Labels, { 'org.example.name': 'multi stage', version: '1' });
    assert.ok(c.Env.includes('APP_HOME=/app') && c.Env.includes('PATH_EXTRA=x'), c.Env.join());
    assert.equal(c.WorkingDir, '/app');
    assert.equal(c.User, '1000:1000');
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['53/udp', '8080/tcp']);
    assert.deepEqual(Object.keys(c.Volumes), ['/data']);
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Entrypoint, ['cat']);
    assert.deepEqual(c.Cmd, ['/app/out.txt']);
    assert.match(img.Parent, /^sha256:[0-9a-f]{64}$/);

    const out = await d.dockerOk(['run', '--rm', 'built-multi:v1']);
    assert.equal(out, 'hi from the app');
    assert.equal(await d.dockerOk(['run', '--rm', 'built-multi:v1', '/app/added.txt']), 'the app');
    const history = await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'built-multi:v1']);
    assert.match(history, /^\/bin\/sh -c #\(nop\) {2}CMD \["\/app\/out.txt"\]$/m);
    assert.match(history, /^\/bin\/sh -c #\(nop\) WORKDIR \/app$/m);
    assert.match(history, /^\/bin\/sh -c #\(nop\) COPY \S+ in \.\/ $/m);
  });

  test('the layer cache: an unchanged context hits every step; a changed file misses from its COPY on', async () => {
    const files = { Dockerfile: 'FROM busybox\nENV A=1\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCOPY c.txt /c.txt\n', 'a.txt': 'a1\n', 'c.txt': 'c\n' };
    let ctx = await context('cache', files);
    const first = await build(['-t', 'built-cache', ctx]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const second = await build(['-t', 'built-cache', ctx]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.match(/ ---> Using cache/g)?.length, 5, second.stdout);
    assert.equal(lastId(second.stdout), lastId(first.stdout));
    ctx = await context('cache', { ...files, 'a.txt': 'a2\n' });
    const third = await build(['-t', 'built-cache', ctx]);
    assert.equal(third.code, 0, third.stderr);
    const steps = third.stdout.split(/^Step /m).slice(1);
    const cached = steps.map((s) => s.includes(' ---> Using cache'));
    assert.deepEqual(cached, [false, true, true, false, false, false], third.stdout);
    assert.equal(await d.dockerOk(['run', '--rm', 'built-cache', 'cat', '/b.txt']), 'a2');
    const nocache = await build(['--no-cache', '-t', 'built-cache', ctx]);
    assert.doesNotMatch(nocache.stdout, /Using cache/);
  });

  test('--target, -f path, -f -, .dockerignore, -q and --iidfile', async () => {
    const ctx = await context('target', {
      'docker/Build.file': 'FROM busybox AS one\nRUN echo one > /stage\nFROM busybox AS two\nRUN echo two > /stage\nCOPY . /ctx/\n',
      'keep.txt': 'k',
      'secret.txt': 's',
      '.dockerignore': 'secret.txt\n',
    });
    const one = await build(['-f', join(ctx, 'docker/Build.file'), '--target', 'one', '-t', 'built-one', ctx]);
    assert.equal(one.code, 0, one.stderr + one.stdout);
    assert.match(one.stdout, /Step 2\/2 : RUN echo one/);
    assert.equal(await d.dockerOk(['run', '--rm', 'built-one', 'cat', '/stage']), 'one');
    const iid = join(dir, 'iid');
    const two = await build(['-q', '--iidfile', iid, '-f', join(ctx, 'docker/Build.file'), '-t', 'built-two', ctx]);
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal((await readFile(iid, 'utf8')).trim(), two.stdout.trim());
    const ls = await d.dockerOk(['run', '--rm', 'built-two', 'ls', '-a', '/ctx']);
    assert.ok(ls.includes('keep.txt') && !ls.includes('secret.txt'), ls);
    const stdin = await build(['-f', '-', '-t', 'built-stdin', ctx], 'FROM busybox\nCOPY keep.txt /\nCMD ["cat", "/keep.txt"]\n');
    assert.equal(stdin.code, 0, stdin.stderr + stdin.stdout);
    assert.equal(await d.dockerOk(['run', '--rm', 'built-stdin']), 'k');
    const missing = await build(['--target', 'nope', '-f', join(ctx, 'docker/Build.file'), ctx]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /failed to reach build target nope in Dockerfile/);
  });

  test('a failing RUN: Docker\'s words and exit code; --force-rm leaves no container, --rm leaves the failed one', async () => {
    const ctx = await context('fail', { Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\n' });
    const before = await containerCount();
    const r = await build(['--force-rm', ctx]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    assert.equal(await containerCount(), before);
    const kept = await build([ctx]);
    assert.equal(kept.code, 3);
    assert.equal(await containerCount(), before + 1, 'moby keeps the failed step container without --force-rm');
    const list = (await d.api('GET', '/containers/json?all=1')).json;
    for (const c of list) await d.api('DELETE', `/containers/${c.Id}?force=1`);
    const noRm = await build(['--rm=false', '-t', 'built-norm', await context('norm', { Dockerfile: 'FROM busybox\nRUN true\n' })]);
    assert.equal(noRm.code, 0, noRm.stderr);
    assert.doesNotMatch(noRm.stdout, /Removing intermediate container/);
    assert.equal(await containerCount(), before + 1);
    for (const c of (await d.api('GET', '/containers/json?all=1')).json) await d.api('DELETE', `/containers/${c.Id}?force=1`);
  });

  test('a Dockerfile syntax error names the line; the raw stream has Docker\'s shape', async () => {
    const ctx = await context('syntax', { Dockerfile: 'FROM busybox\nRUN true\nRUNN false\n' });
    const r = await build([ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /line 3: unknown instruction: RUNN/i);

    const tar = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo out\n' });
    const res = await rawRequest(d.socket, 'POST', '/v1.41/build?t=built-raw&rm=1', { body: tar, headers: { 'content-type': 'application/x-tar' }, timeoutMs: 60_000 });
    const lines = (await readBody(res)).trim().split(/\r?\n/).map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { stream: 'Step 1/2 : FROM busybox' });
    assert.deepEqual(lines[1], { stream: '\n' });
    assert.ok(lines.some((l) => l.stream === 'out\n'), JSON.stringify(lines));
    const aux = lines.find((l) => l.aux);
    assert.match(aux.aux.ID, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(lines.at(-1), { stream: 'Successfully tagged built-raw:latest\n' });

    const remote = await d.api('POST', '/build?remote=https://example.com/repo.git');
    assert.equal(remote.status, 400);
    assert.match(remote.json.message, /remote/);
  });

  test('a 1 GB context is streamed to disk: the daemon\'s memory stays flat, the context dir goes', async (t) => {
    const ctx = await context('big', { Dockerfile: 'FROM busybox\nCOPY small.txt /\n', 'small.txt': 's' });
    const big = await open(join(ctx, 'big.bin'), 'w');
    await big.truncate(1024 * 1024 * 1024);
    await big.close();
    const rssBefore = await rssOf(d.pid!);
    let peak = rssBefore;
    const sampler = setInterval(() => void rssOf(d.pid!).then((r) => (peak = Math.max(peak, r)), () => undefined), 100);
    try {
      const r = await build(['-t', 'built-big', ctx]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, await rssOf(d.pid!));
    t.diagnostic(`daemon RSS before ${Math.round(rssBefore / 1048576)} MB, peak during the 1 GB build +${Math.round((peak - rssBefore) / 1048576)} MB`);
    // the bound: 200 MB over the daemon's RSS before the build (the context is 1024 MB)
    assert.ok(peak - rssBefore < 200 * 1024 * 1024, `RSS grew by ${Math.round((peak - rssBefore) / 1048576)} MB`);
    const left = await import('node:fs/promises').then((fs) => fs.readdir(join(d.dataRoot, 'builder')).catch(() => []));
    assert.deepEqual(left, []);
  });

  test('FROM pulls a missing image (X-Registry-Config), --pull, FROM scratch, ONBUILD triggers', async () => {
    const reg = await testRegistry();
    try {
      const ref = `${reg.host}/busybox:latest`;
      await d.api('DELETE', `/images/${encodeURIComponent(ref)}`);
      const ctx = await context('pull', { Dockerfile: `FROM ${ref}\nONBUILD RUN echo triggered > /trig\n`, 'f.txt': 'f' });
      const r = await build(['-t', 'built-onbuild', ctx]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /Pulling from busybox|Status: Downloaded newer image|Pull complete/);
      const again = await build(['--pull', '-t', 'built-onbuild', ctx]);
      assert.equal(again.code, 0, again.stderr);
      const child = await context('child', { Dockerfile: 'FROM built-onbuild\nRUN cat /trig\n' });
      const c = await build(['-t', 'built-child', child]);
      assert.equal(c.code, 0, c.stderr + c.stdout);
      assert.match(c.stdout, /# Executing 1 build trigger\n/);
      assert.match(c.stdout, /^triggered$/m);
      const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'built-child']))[0];
      assert.equal(img.Config.OnBuild, null);
    } finally {
      await reg.stop();
    }
    const scratch = await context('scratch', { Dockerfile: 'FROM scratch\nWORKDIR /app\nCOPY f.txt ./\nENV A=1\n', 'f.txt': 'in scratch' });
    const r = await build(['-t', 'built-scratch', scratch]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'built-scratch']))[0];
    assert.equal(img.RootFS.Layers.length, 2);
    assert.equal(img.Config.WorkingDir, '/app');
    const saved = await d.api('GET', '/images/built-scratch/get');
    assert.equal(saved.status, 200);
  });

  test('--network, --add-host and --memory reach the RUN containers', async () => {
    const ctx = await context('host-opts', { Dockerfile: 'FROM busybox\nRUN ls /sys/class/net; grep foo /etc/hosts; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes\n' });
    const r = await build(['--no-cache', '--network', 'none', '--add-host', 'foo:10.1.2.3', '--memory', '64m', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^lo$/m);
    assert.doesNotMatch(r.stdout, /^eth0$/m);
    assert.match(r.stdout, /^10\.1\.2\.3\s+foo$/m);
    assert.match(r.stdout, /^67108864$/m);
  });

  test("FROM a private registry: pulled with the CLI's X-Registry-Config credentials; refused without a login", async () => {
    const reg = await startHtpasswdRegistry({ alice: 'pw-build' });
    try {
      const fx = await prepareFixtures();
      await pushImage(reg.host, fx.ociDir, 'private/busybox:latest', 'alice:pw-build');
      const ctx = await context('private', { Dockerfile: `FROM ${reg.host}/private/busybox\nRUN true\n` });
      const denied = await build([ctx]);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /no basic auth credentials|unauthorized|denied/i);
      await d.dockerOk(['login', reg.host, '-u', 'alice', '--password-stdin'], { input: 'pw-build' });
      try {
        const ok = await build(['-t', 'built-private', ctx]);
        assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      } finally {
        await d.dockerOk(['logout', reg.host]);
      }
    } finally {
      await reg.stop();
    }
  });

  test('docker-py images.build and compose build: parse the stream, get the image', async () => {
    const ctx = await context('py', { Dockerfile: 'FROM busybox\nARG V=default\nRUN echo "v=$V" > /v\nLABEL from=py\n' });
    const out = await dockerPyEmits(
      d,
      `img, logs = client.images.build(path=sys.argv[1], tag='built-py:1', buildargs={'V': 'given'}, rm=True, labels={'extra': 'yes'})
emit({'id': img.id, 'tags': img.tags, 'labels': img.labels, 'logs': [l for l in logs if 'stream' in l]})
try:
    client.images.build(fileobj=__import__('io').BytesIO(b'FROM busybox\\nRUN exit 7\\n'), rm=True)
except docker.errors.BuildError as e:
    emit({'error': e.msg})
`,
      { args: [ctx] },
    );
    assert.match(out[0].id, /^sha256:/);
    assert.deepEqual(out[0].tags, ['built-py:1']);
    assert.deepEqual(out[0].labels, { from: 'py', extra: 'yes' });
    assert.ok(out[0].logs.some((l: any) => /Successfully built/.test(l.stream)));
    assert.match(out[1].error, /returned a non-zero code: 7/);
    assert.equal(await d.dockerOk(['run', '--rm', 'built-py:1', 'cat', '/v']), 'v=given');
    for (const c of (await d.api('GET', '/containers/json?all=1')).json) await d.api('DELETE', `/containers/${c.Id}?force=1`);

    const composeBin = '/usr/bin/docker-compose';
    if (!existsSync(composeBin)) return;
    const proj = await context('compose', {
      'docker-compose.yml': 'version: "2.4"\nservices:\n  app:\n    build:\n      context: ./app\n      args:\n        MSG: composed\n    image: built-compose:1\n',
      'app/Dockerfile': 'FROM busybox\nARG MSG\nRUN echo $MSG > /msg\nCMD ["cat", "/msg"]\n',
    });
    const cr = await runCommand(composeBin, ['--ansi', 'never', '-p', 'bbuild', '-f', join(proj, 'docker-compose.yml'), 'build'], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, timeoutMs: 120_000 });
    assert.equal(cr.code, 0, cr.stderr + cr.stdout);
    assert.equal(await d.dockerOk(['run', '--rm', 'built-compose:1']), 'composed');
  });

  test('a client that leaves mid-build: the RUN container is killed and removed, the context dir goes', async () => {
    const before = await containerCount();
    const tar = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo started; sleep 300\n' });
    const res = await rawRequest(d.socket, 'POST', '/build?rm=1', { body: tar, headers: { 'content-type': 'application/x-tar' }, timeoutMs: 60_000 });
    let seen = '';
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('"stream":"started\\n"')) resolve();
      });
    });
    res.destroy();
    let left = -1;
    let dirs: string[] = ['?'];
    for (let i = 0; i < 100 && (left !== before || dirs.length > 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await containerCount();
      dirs = await readdir(join(d.dataRoot, 'builder')).catch(() => []);
    }
    assert.equal(left, before, 'the step container is gone');
    assert.deepEqual(dirs, []);
  });

  async function rssOf(pid: number): Promise<number> {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  function lastId(stdout: string): string {
    return /Successfully built ([0-9a-f]{12})/.exec(stdout)![1];
  }

  async function tarOf(files: Record<string, string>): Promise<Buffer> {
    const src = await mkdtemp(join(dir, 'tar-'));
    for (const [p, t] of Object.entries(files)) await writeFile(join(src, p), t);
    return new Promise((resolve, reject) => {
      const child = spawn('tar', ['-C', src, '-cf', '-', '.']);
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }
  void DOCKER_BIN;
});
