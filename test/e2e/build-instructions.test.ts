// The metadata instructions through docker build (DOCKER_BUILDKIT=0): the image config and the
// history lines a dockerd 20.10 build of the same Dockerfile produced (in Docker 28's formats:
// HEALTHCHECK's %q gained StartInterval), and the build-arg rules for RUN's history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe('docker build: what each instruction does to the image', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  before(async () => {
    d = f.daemon();
    await d.ensureBusybox();
    dir = await mkdtemp('/tmp/bt-build-instr-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_BUILDKIT: '0' });
  async function build(dockerfile: string, args: string[]): Promise<string> {
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    const r = await d.docker(['build', ...args, dir], { env: env(), timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r.stdout;
  }
  const history = async (ref: string) =>
    (await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', ref])).trim().split('\n').reverse();

  test('config and history lines as dockerd writes them', async () => {
    await build(
      [
        'ARG BASE=busybox',
        'FROM ${BASE} AS b1',
        'ARG X=1',
        'ARG Y',
        'ENV A=b C="d e"',
        'ENV LEG some value',
        'LABEL "l1"="v 1" l2=x',
        'EXPOSE 80 443/udp 8000-8001',
        'WORKDIR app',
        'WORKDIR sub/../w2',
        'USER 1000:1000',
        'VOLUME /data /logs',
        'VOLUME ["/j"]',
        'STOPSIGNAL SIGTERM',
        'HEALTHCHECK --interval=30s --retries=3 CMD echo ok',
        'HEALTHCHECK NONE',
        'ONBUILD RUN echo trig',
        'MAINTAINER me <me@x>',
        'RUN echo $X',
        'RUN ["echo", "exec"]',
        'SHELL ["/bin/sh", "-xc"]',
        'ENV Z=1',
        'CMD echo hi',
        'ENTRYPOINT ["/bin/echo"]',
        'CMD ["x", "y"]',
        '',
      ].join('\n'),
      ['--build-arg', 'HTTP_PROXY=http://p', '--build-arg', 'Y=yy', '--label', 'zz=top', '-t', 'instr:1'],
    );
    const lines = await history('instr:1');
    assert.deepEqual(lines.slice(lines.indexOf('/bin/sh -c #(nop)  ARG X=1')), [
      '/bin/sh -c #(nop)  ARG X=1',
      '/bin/sh -c #(nop)  ARG Y',
      '/bin/sh -c #(nop)  ENV A=b C=d e',
      '/bin/sh -c #(nop)  ENV LEG=some value',
      '/bin/sh -c #(nop)  LABEL l1=v 1 l2=x',
      '/bin/sh -c #(nop)  EXPOSE 443/udp 80 8000-8001',
      '/bin/sh -c #(nop) WORKDIR /app',
      '/bin/sh -c #(nop) WORKDIR /app/w2',
      '/bin/sh -c #(nop)  USER 1000:1000',
      '/bin/sh -c #(nop)  VOLUME [/data /logs]',
      '/bin/sh -c #(nop)  VOLUME [/j]',
      '/bin/sh -c #(nop)  STOPSIGNAL SIGTERM',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "echo ok"] "30s" "0s" "0s" "0s" \'\\x03\'}',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" \'\\x00\'}',
      '/bin/sh -c #(nop)  ONBUILD RUN echo trig',
      '/bin/sh -c #(nop)  MAINTAINER me <me@x>',
      '|2 X=1 Y=yy /bin/sh -c echo $X',
      '|2 X=1 Y=yy echo exec',
      '/bin/sh -xc #(nop)  SHELL [/bin/sh -xc]',
      '/bin/sh -xc #(nop)  ENV Z=1',
      '/bin/sh -xc #(nop)  CMD ["/bin/sh" "-xc" "echo hi"]',
      '/bin/sh -xc #(nop)  ENTRYPOINT ["/bin/echo"]',
      '/bin/sh -xc #(nop)  CMD ["x" "y"]',
      '/bin/sh -xc #(nop)  LABEL zz=top',
    ]);
    const cfg = JSON.parse(await d.dockerOk(['inspect', '--format', '{{json .Config}}', 'instr:1']));
    assert.deepEqual(
      {
        User: cfg.User,
        ExposedPorts: cfg.ExposedPorts,
        Env: cfg.Env,
        Entrypoint: cfg.Entrypoint,
        Cmd: cfg.Cmd,
        Volumes: cfg.Volumes,
        WorkingDir: cfg.WorkingDir,
        Labels: cfg.Labels,
        StopSignal: cfg.StopSignal,
        Healthcheck: cfg.Healthcheck,
        OnBuild: cfg.OnBuild,
        Shell: cfg.Shell,
      },
      {
        User: '1000:1000',
        ExposedPorts: { '443/udp': {}, '80/tcp': {}, '8000/tcp': {}, '8001/tcp': {} },
        Env: [PATH, 'A=b', 'C=d e', 'LEG=some value', 'Z=1'],
        Entrypoint: ['/bin/echo'],
        Cmd: ['x', 'y'],
        Volumes: { '/data': {}, '/j': {}, '/logs': {} },
        WorkingDir: '/app/w2',
        Labels: { l1: 'v 1', l2: 'x', zz: 'top' },
        StopSignal: 'SIGTERM',
        // dockerd's HEALTHCHECK NONE keeps the earlier interval and retries (its commit shares
        // the HealthConfig with a container create that fills zero fields from the parent)
        Healthcheck: { Test: ['NONE'], Interval: 30000000000, Retries: 3 },
        OnBuild: ['RUN echo trig'],
        Shell: ['/bin/sh', '-xc'],
      },
    );
    assert.equal((await d.dockerOk(['inspect', '--format', '{{.Author}}', 'instr:1'])).trim(), 'me <me@x>');
  });

  test('ARG: meta args as defaults, --build-arg wins, undeclared proxies stay out of history', async () => {
    const out = await build(
      [
        'ARG V=meta',
        'ARG ONLYMETA=m',
        'FROM busybox',
        'ARG V',
        'ARG D=def',
        'ARG ONLYMETA',
        'ARG NOVAL',
        'RUN true',
        'ENV E=$V-$D-$ONLYMETA-$NOVAL-$HTTP_PROXY',
        'ENV P="80 90/udp"',
        'EXPOSE $P 100-101',
        '',
      ].join('\n'),
      ['--build-arg', 'D=cli', '--build-arg', 'HTTP_PROXY=p', '--build-arg', 'UNUSED=u', '-t', 'instr:2'],
    );
    assert.match(out, /^Step 1\/11 : ARG V=meta$/m);
    assert.match(out, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
    const lines = await history('instr:2');
    assert.ok(lines.includes('|3 D=cli ONLYMETA=m V=meta /bin/sh -c true'), lines.join('\n'));
    assert.ok(lines.includes('/bin/sh -c #(nop)  ENV E=meta-cli-m--p'), lines.join('\n'));
    assert.ok(lines.includes('/bin/sh -c #(nop)  EXPOSE 80 90/udp 100-101'), lines.join('\n'));
    await build('FROM busybox\nRUN true\n', ['--build-arg', 'HTTP_PROXY=p', '-t', 'instr:3']);
    assert.ok((await history('instr:3')).includes('|0 /bin/sh -c true'));
  });
});
