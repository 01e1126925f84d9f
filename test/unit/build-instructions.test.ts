import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import type { RunConfig } from '../../src/images/build/types.js';
import { BuildArgs } from '../../src/images/build/dockerfile/build-args.js';
import {
  applyInstruction,
  applyMetaArg,
  beginStage,
  copyComment,
  copyContainerConfig,
  expandFrom,
  labelOptionInstructions,
  runFailureMessage,
  type StageState,
  type StepEffect,
} from '../../src/images/build/dockerfile/instructions.js';
import { parseDockerfile, parseTrigger } from '../../src/images/build/dockerfile/parse-dockerfile.js';
import { REFERENCE_BUILD_ARGS, REFERENCE_CONFIG, REFERENCE_LABELS, referenceDockerfile, referenceHistory } from '../fixtures/dockerd-build-reference.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HASH = 'file:99dab1a7a2dd5d9f985450ffe99777fca12ef0bdae5ec5e071c7846d31930e6d';

/** Run a Dockerfile's single stage the way the executor does, collecting created_by lines. */
function build(text: string, opts: { buildArgs?: Record<string, string | null>; base?: RunConfig; labels?: Record<string, string> } = {}) {
  const p = parseDockerfile(text);
  const args = new BuildArgs(opts.buildArgs ?? {});
  for (const m of p.metaArgs) applyMetaArg(args, m, p.escape);
  const from = expandFrom(p.stages[0].from, args, p.escape);
  const st = beginStage(opts.base ?? { Env: [PATH], Cmd: ['sh'] }, args, p.stages[0].name, p.escape);
  const lines: string[] = [];
  const effects: StepEffect[] = [];
  for (const instr of [...p.stages[0].instructions, ...labelOptionInstructions(opts.labels ?? {})]) {
    const e = applyInstruction(st, instr);
    effects.push(e);
    lines.push(e.kind === 'copy' ? (copyContainerConfig(st, copyComment(e.isAdd, HASH, e.dest, e.chown)).Cmd ?? []).join(' ') : e.createdBy);
  }
  args.mergeReferenced(st.args);
  return { from, st, lines, effects, args };
}

test('history lines and config as dockerd writes them (checked against a dockerd build, Docker 28 formats)', () => {
  const text = referenceDockerfile(['COPY f.txt /f/', 'COPY --chown=1:2 f.txt rel']);
  const { from, st, lines, effects } = build(text, { buildArgs: REFERENCE_BUILD_ARGS, labels: REFERENCE_LABELS });
  assert.deepEqual(from, { image: 'busybox' });
  assert.deepEqual(
    lines,
    referenceHistory([
      `/bin/sh -c #(nop) COPY ${HASH} in /f/ `,
      // dockerd 20.10 lost the space after --chown=1:2; Docker 28 has it
      `/bin/sh -c #(nop) COPY --chown=1:2 ${HASH} in rel `,
    ]),
  );
  // the image config dockerd produced for the same Dockerfile
  assert.deepEqual(st.config, REFERENCE_CONFIG);
  assert.equal(st.maintainer, 'me <me@x>');
  // the second HEALTHCHECK notes the override, as moby prints it
  assert.equal(effects[13].kind === 'commit' && effects[13].note, 'Note: overriding previous HEALTHCHECK: [CMD-SHELL echo ok]\n');
  // RUN: what the container runs, and what the cache key and image record
  const run = effects[16];
  assert.ok(run.kind === 'run');
  assert.deepEqual(run.runConfig.Cmd, ['/bin/sh', '-c', 'echo $X']);
  assert.deepEqual(run.runConfig.Entrypoint, ['']);
  assert.deepEqual(run.runConfig.Healthcheck, { Test: ['NONE'] });
  assert.deepEqual(run.runConfig.Env, [PATH, 'A=b', 'C=d e', 'LEG=some value', 'HTTP_PROXY=http://p', 'X=1', 'Y=yy']);
  assert.deepEqual(run.containerConfig.Cmd, ['|2', 'X=1', 'Y=yy', '/bin/sh', '-c', 'echo $X']);
  assert.equal(run.containerConfig.Entrypoint, null);
  assert.deepEqual(run.containerConfig.Env, [PATH, 'A=b', 'C=d e', 'LEG=some value']);
  const wd = effects[6];
  assert.ok(wd.kind === 'workdir');
  assert.equal(wd.dir, '/app');
});

test('ENV: replaces in place, appends new keys, and expands with the values from before the line', () => {
  const { st, lines } = build('FROM a\nENV A=1 B=2\nENV B=3 C=$A D=${B}x\nENV A=${A}0 "Q"=\'$A\'\n');
  assert.deepEqual(st.config.Env, [PATH, 'A=10', 'B=3', 'C=1', 'D=2x', 'Q=$A']);
  assert.equal(lines[1], '/bin/sh -c #(nop)  ENV B=3 C=1 D=2x');
});

test('ARG: defaults, --build-arg, meta args, undeclared proxies, unused warnings', () => {
  const text = 'ARG V=meta\nARG ONLYMETA=m\nFROM x:$V\nARG V\nARG D=def\nARG ONLYMETA\nARG NOVAL\nRUN true\nENV E=$V-$D-$ONLYMETA-$NOVAL-$HTTP_PROXY\n';
  const { from, st, lines, args } = build(text, { buildArgs: { D: 'cli', HTTP_PROXY: 'p', UNUSED: 'u', NULLED: null } });
  assert.deepEqual(from, { image: 'x:meta' });
  // a stage ARG without a value takes the meta arg's; --build-arg wins over a default
  assert.equal(lines[4], '|3 D=cli ONLYMETA=m V=meta /bin/sh -c true');
  assert.deepEqual(st.config.Env, [PATH, 'E=meta-cli-m--p']);
  assert.equal(args.unusedWarning(), '[Warning] One or more build-args [NULLED UNUSED] were not consumed\n');
  // an undeclared proxy arg reaches RUN but not the cache key: `|0`
  const r = build('FROM a\nRUN make\n', { buildArgs: { HTTP_PROXY: 'p' } });
  assert.equal(r.lines[0], '|0 /bin/sh -c make');
  assert.ok(r.effects[0].kind === 'run' && r.effects[0].runConfig.Env?.includes('HTTP_PROXY=p'));
  // a declared one is recorded
  assert.equal(build('FROM a\nARG HTTP_PROXY\nRUN make\n', { buildArgs: { HTTP_PROXY: 'p' } }).lines[1], '|1 HTTP_PROXY=p /bin/sh -c make');
  // ENV wins over ARG of the same name, so the arg is not passed again
  assert.equal(build('FROM a\nARG A=1\nENV A=2\nRUN x\n').lines[2], '/bin/sh -c x');
  // stage ARGs do not leak into the next stage; meta args need re-declaring
  const p = parseDockerfile('ARG M=1\nFROM a\nRUN echo $M\n');
  const b = new BuildArgs();
  applyMetaArg(b, p.metaArgs[0], '\\');
  const s2 = beginStage({}, b, undefined, '\\');
  assert.equal(applyInstruction(s2, p.stages[0].instructions[0]).kind === 'run' && (applyInstruction(s2, p.stages[0].instructions[0]) as { createdBy: string }).createdBy, '/bin/sh -c echo $M');
});

test('CMD and ENTRYPOINT: shell form through SHELL, an ENTRYPOINT drops an inherited CMD only', () => {
  const base: RunConfig = { Env: [PATH], Cmd: ['base-cmd'], Entrypoint: ['base-ep'] };
  assert.deepEqual(build('FROM a\nENTRYPOINT top -b\n', { base }).st.config, { Env: [PATH], Cmd: null, Entrypoint: ['/bin/sh', '-c', 'top -b'] });
  assert.deepEqual(build('FROM a\nCMD ["c"]\nENTRYPOINT ["e"]\n', { base }).st.config, { Env: [PATH], Cmd: ['c'], Entrypoint: ['e'] });
  const r = build('FROM a\nENTRYPOINT []\n', { base });
  assert.equal(r.st.config.Entrypoint, null);
  assert.equal(r.lines[0], '/bin/sh -c #(nop)  ENTRYPOINT []');
  assert.deepEqual(build('FROM a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD a | b\n').st.config.Cmd, ['/bin/bash', '-o', 'pipefail', '-c', 'a | b']);
  assert.deepEqual(build('FROM a\nCMD []\n', { base }).st.config.Cmd, []);
});

test('WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE expand variables; EXPOSE splits them', () => {
  const { st, lines } = build(
    'FROM a\nENV D=/srv U=nobody P="80 90/udp" V=/v S=KILL\nWORKDIR $D\nWORKDIR ./x/../y\nUSER $U\nVOLUME $V ${V}2\nSTOPSIGNAL SIG$S\nEXPOSE $P 100-101\n',
    { base: { Env: [PATH], WorkingDir: '/ignored' } },
  );
  assert.equal(st.config.WorkingDir, '/srv/y');
  assert.equal(st.config.User, 'nobody');
  assert.deepEqual(st.config.Volumes, { '/v': {}, '/v2': {} });
  assert.equal(st.config.StopSignal, 'SIGKILL');
  assert.deepEqual(Object.keys(st.config.ExposedPorts ?? {}).sort(), ['100/tcp', '101/tcp', '80/tcp', '90/udp']);
  assert.equal(lines[1], '/bin/sh -c #(nop) WORKDIR /srv');
  // sorted as written ('$P' before '100-101'), then expanded
  assert.equal(lines[6], '/bin/sh -c #(nop)  EXPOSE 80 90/udp 100-101');
});

test('errors with Docker\'s words', () => {
  const err = (text: string, opts = {}) => {
    try {
      build(text, opts);
    } catch (e) {
      assert.ok(e instanceof InvalidParameterError, String(e));
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(err('FROM a\nEXPOSE 80/xyz\n'), 'invalid proto: xyz');
  assert.equal(err('FROM a\nEXPOSE http\n'), 'invalid containerPort: http');
  assert.equal(err('FROM a\nEXPOSE 70000\n'), 'invalid containerPort: 70000');
  assert.equal(err('FROM a\nSTOPSIGNAL SIGNOPE\n'), 'Invalid signal: SIGNOPE');
  assert.equal(err('FROM a\nCOPY --chmod=u+x a b\n'), "invalid chmod parameter: 'u+x'. it should be octal string and between 0 and 07777");
  assert.equal(err('FROM a\nCOPY --chmod=17777 a b\n'), "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777");
  assert.equal(err('FROM a\nRUN --mount=type=cache,target=/c make\n'), 'the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
  assert.equal(err('FROM a\nRUN --network=none make\n'), 'the --network option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
  assert.equal(err('FROM a\nENV A=${B:?unset}\n'), 'failed to process "${B:?unset}": B: unset');
  assert.equal(err('ARG E\nFROM $E\n'), 'base name ($E) should not be blank');
  assert.equal(err('FROM a\nWORKDIR $NOPE\n'), 'cannot normalize nothing');
  assert.equal(runFailureMessage(['/bin/sh', '-c', 'exit 3'], 3), "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
});

test('COPY/ADD: expanded sources, dest and --chown; --from kept as written', () => {
  const { effects } = build('FROM a\nENV D=/dst U=1000\nCOPY --from=$X --chown=$U:$U src/${D}* $D/\nADD a.tar b\n');
  assert.deepEqual(effects[1], { kind: 'copy', isAdd: false, sources: ['src//dst*'], dest: '/dst/', from: '$X', chown: '1000:1000' });
  assert.deepEqual(effects[2], { kind: 'copy', isAdd: true, sources: ['a.tar'], dest: 'b' });
});

test('COPY/ADD --chmod: octal as BuildKit takes it (the classic builder would refuse it)', () => {
  const { effects } = build('FROM a\nARG M=0640\nCOPY --chmod=755 a b\nADD --chmod=$M c d\n');
  assert.deepEqual(effects[1], { kind: 'copy', isAdd: false, sources: ['a'], dest: 'b', chmod: 0o755 });
  assert.deepEqual(effects[2], { kind: 'copy', isAdd: true, sources: ['c'], dest: 'd', chmod: 0o640 });
});

test('ONBUILD triggers come out of the base, and run before the stage', () => {
  const st: StageState = beginStage({ Env: ['PATH=/bin'], OnBuild: ['ENV T=1', 'RUN echo $T'] }, new BuildArgs(), undefined, '\\');
  assert.deepEqual(st.triggers, ['ENV T=1', 'RUN echo $T']);
  assert.equal(st.config.OnBuild, null);
  assert.deepEqual(st.config.Env, ['PATH=/bin']);
  applyInstruction(st, parseTrigger(st.triggers[0]));
  const e = applyInstruction(st, parseTrigger(st.triggers[1]));
  assert.equal(e.kind === 'run' && e.createdBy, '/bin/sh -c echo $T');
  assert.deepEqual(st.config.Env, ['PATH=/bin', 'T=1']);
});

test('FROM scratch gets the default PATH; --platform expands with meta args', () => {
  assert.deepEqual(beginStage(undefined, new BuildArgs(), undefined, '\\').config, { Env: [PATH] });
  const p = parseDockerfile('ARG P=linux/amd64\nFROM --platform=$P busybox\n');
  const args = new BuildArgs();
  applyMetaArg(args, p.metaArgs[0], '\\');
  assert.deepEqual(expandFrom(p.stages[0].from, args, '\\'), { image: 'busybox', platform: 'linux/amd64' });
});

test('--label values are not expanded', () => {
  const { st, lines } = build('FROM a\nENV X=1\n', { labels: { b: '$X', a: 'v' } });
  assert.deepEqual(st.config.Labels, { a: 'v', b: '$X' });
  assert.deepEqual(lines.slice(1), ['/bin/sh -c #(nop)  LABEL a=v', '/bin/sh -c #(nop)  LABEL b=$X']);
});
