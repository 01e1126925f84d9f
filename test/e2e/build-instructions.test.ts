// The metadata instructions through docker build (DOCKER_BUILDKIT=0): the image config and the
// history lines a dockerd 20.10 build of the same Dockerfile produced (in Docker 28's formats:
// HEALTHCHECK's %q gained StartInterval), and the build-arg rules for RUN's history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';
import { REFERENCE_BUILD_ARGS, REFERENCE_CONFIG, REFERENCE_LABELS, referenceDockerfile, referenceHistory } from '../fixtures/dockerd-build-reference.js';

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
    const flags = [
      ...Object.entries(REFERENCE_BUILD_ARGS).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      ...Object.entries(REFERENCE_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    ];
    await build(referenceDockerfile(), [...flags, '-t', 'instr:1']);
    const lines = await history('instr:1');
    assert.deepEqual(lines.slice(lines.indexOf('/bin/sh -c #(nop)  ARG X=1')), referenceHistory());
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
      REFERENCE_CONFIG,
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
