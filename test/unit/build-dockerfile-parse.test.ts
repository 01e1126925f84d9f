import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import { parseDockerfile, parseTrigger, warningText } from '../../src/images/build/dockerfile/parse-dockerfile.js';
import { parseNodes, type DockerfileNode } from '../../src/images/build/dockerfile/parse-nodes.js';
import type { LineNode } from '../../src/images/build/dockerfile/line-parsers.js';

const FIXTURES = new URL('../../../test/fixtures/dockerfile/parser/', import.meta.url);

// buildkit's Node.Dump(), so its testfiles' `result` can be compared as they are.
function dump(n: LineNode): string {
  let s = n.keyword.toLowerCase();
  if (n.flags.length) s += ` [${n.flags.map(q).join(' ')}]`;
  if (n.child) s += ` (${dump(n.child)})`;
  for (const a of n.args) s += ` ${q(a)}`;
  return s.trim();
}
function q(s: string): string {
  // Go's strconv.Quote writes control characters as \xNN where JSON writes \u00NN
  return JSON.stringify(s)
    .replace(/\\u00([01][0-9a-f])/g, (_m, h: string) => ({ '07': '\\a', '0b': '\\v' })[h] ?? `\\x${h}`)
    .replace(/\u007f/g, '\\x7f');
}

test('buildkit parser testfiles: every Dockerfile parses to buildkit\'s result', () => {
  const dir = new URL('testfiles/', FIXTURES);
  const names = readdirSync(dir);
  assert.ok(names.length >= 30);
  for (const name of names) {
    const text = readFileSync(new URL(`${name}/Dockerfile`, dir), 'utf8');
    const want = readFileSync(new URL(`${name}/result`, dir), 'utf8');
    const got = parseNodes(text).nodes.map((n: DockerfileNode) => `(${dump(n)})\n`).join('');
    assert.equal(got, want, name);
  }
});

test('buildkit negative testfiles are refused', () => {
  const dir = new URL('testfiles-negative/', FIXTURES);
  for (const name of readdirSync(dir)) {
    const text = readFileSync(new URL(`${name}/Dockerfile`, dir), 'utf8');
    assert.throws(() => parseDockerfile(text), InvalidParameterError, name);
  }
});

function errOf(text: string, name?: string): string {
  try {
    parseDockerfile(text, name);
  } catch (err) {
    assert.ok(err instanceof InvalidParameterError, String(err));
    return err.message;
  }
  assert.fail('parsed');
}

test('Docker\'s whole-file errors: empty, comments only, no FROM', () => {
  assert.equal(errOf(''), 'the Dockerfile (Dockerfile) cannot be empty');
  assert.equal(errOf('', 'build/Dockerfile.dev'), 'the Dockerfile (build/Dockerfile.dev) cannot be empty');
  assert.equal(errOf('# only\n\n# comments\n'), 'failed to parse Dockerfile: file with no instructions');
  assert.equal(errOf('RUN true\n'), 'no build stage in current context');
  assert.equal(errOf('ARG A=1\nENV B=2\n'), 'no build stage in current context');
  assert.equal(errOf('FROM a\nENV PATH\n'), 'failed to parse Dockerfile: ENV must have two arguments');
  assert.equal(errOf('FROM a\nLABEL a=b c\n'), 'failed to parse Dockerfile: Syntax error - can\'t find = in "c". Must be of the form: name=value');
  assert.equal(errOf('FROM a\nCMD ["a", 1]\n'), 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only');
  assert.equal(errOf('# escape=x\nFROM a\n'), 'failed to parse Dockerfile: invalid escape token \'x\' does not match ` or \\');
  assert.equal(errOf('# escape=`\n# escape=\\\nFROM a\n'), 'failed to parse Dockerfile: only one escape parser directive can be used');
});

test('unknown instruction: the line and the suggestion, as Docker words them', () => {
  assert.equal(errOf('FROM busybox\n\nRUNN echo hi\n'), 'dockerfile parse error on line 3: unknown instruction: RUNN (did you mean RUN?)');
  assert.equal(errOf('FROM busybox\ncopi a b\n'), 'dockerfile parse error on line 2: unknown instruction: copi (did you mean copy?)');
  assert.equal(errOf('FROM busybox\nFOOBAR x\n'), 'dockerfile parse error on line 2: unknown instruction: FOOBAR');
  // a parser-level error anywhere wins over an unknown instruction earlier, as buildkit parses first
  assert.equal(errOf('FROM a\nRUNN x\nENV A\n'), 'failed to parse Dockerfile: ENV must have two arguments');
  // the line is the instruction's first line
  assert.equal(errOf('FROM a\nRUN a \\\n  b\nWHAT \\\n  x\n'), 'dockerfile parse error on line 4: unknown instruction: WHAT');
});

test('instruction argument errors with buildkit\'s words', () => {
  const cases: [string, string][] = [
    ['FROM', 'FROM requires either one or three arguments'],
    ['FROM a b', 'FROM requires either one or three arguments'],
    ['FROM a AS 1x', 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['ENV', 'ENV requires at least one argument'],
    ['ENV =x', 'ENV names can not be blank'],
    ['LABEL', 'LABEL requires at least one argument'],
    ['EXPOSE', 'EXPOSE requires at least one argument'],
    ['VOLUME', 'VOLUME requires at least one argument'],
    ['VOLUME [""]', 'VOLUME specified can not be an empty string'],
    ['WORKDIR', 'WORKDIR requires exactly one argument'],
    ['USER', 'USER requires exactly one argument'],
    ['MAINTAINER', 'MAINTAINER requires exactly one argument'],
    ['STOPSIGNAL', 'STOPSIGNAL requires exactly one argument'],
    ['ARG', 'ARG requires at least one argument'],
    ['ARG =1', 'ARG names can not be blank'],
    ['COPY a', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['ADD a', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['SHELL', 'SHELL requires at least one argument'],
    ['SHELL /bin/bash -c', 'SHELL requires the arguments to be in JSON form'],
    ['ONBUILD', 'ONBUILD requires at least one argument'],
    ['ONBUILD ONBUILD RUN x', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['ONBUILD FROM x', 'FROM isn\'t allowed as an ONBUILD trigger'],
    ['ONBUILD maintainer x', 'MAINTAINER isn\'t allowed as an ONBUILD trigger'],
    ['HEALTHCHECK', 'HEALTHCHECK requires at least one argument'],
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'],
    ['HEALTHCHECK FOO x', 'Unknown type "FOO" in HEALTHCHECK (try CMD)'],
    ['HEALTHCHECK --interval=5x CMD true', 'time: unknown unit "x" in duration "5x"'],
    ['HEALTHCHECK --interval=x CMD true', 'time: invalid duration "x"'],
    ['HEALTHCHECK --interval=10us CMD true', 'Interval "interval" cannot be less than 1ms'],
    ['HEALTHCHECK --retries=-1 CMD true', '--retries cannot be negative (-1)'],
    ['HEALTHCHECK --retries=x CMD true', 'strconv.ParseInt: parsing "x": invalid syntax'],
    ['HEALTHCHECK --intervall=5s CMD true', 'unknown flag: --intervall (did you mean interval?)'],
    ['COPY --form=a x y', 'unknown flag: --form (did you mean from?)'],
    ['COPY --from x y', 'missing a value on flag: --from'],
    ['COPY --from=a --from=b x y', 'duplicate flag specified: --from'],
    ['COPY --link=maybe x y', 'expecting boolean value for flag --link, not: maybe'],
    ['COPY --exclude=*.md a b', 'unknown flag: --exclude'],
    ['RUN --security=insecure true', 'unknown flag: --security'],
    ['ENV --foo=bar A=b', 'unknown flag: --foo'],
    ['FROM --platfrom=x a', 'unknown flag: --platfrom (did you mean platform?)'],
    ['FROM --plat=x a', 'unknown flag: --plat'],
    ['RUN --mnt=type=cache,target=/x true', 'unknown flag: --mnt (did you mean mount?)'],
    ['RUN --foo=bar true', 'unknown flag: --foo'],
  ];
  for (const [line, msg] of cases) {
    const text = line.startsWith('FROM') ? `${line}\n` : `FROM a\n${line}\n`;
    const n = line.startsWith('FROM') ? 1 : 2;
    assert.equal(errOf(text), `dockerfile parse error on line ${n}: ${msg}`, line);
  }
});

test('heredocs are refused with the line, not run as something else', () => {
  assert.match(errOf('FROM a\nRUN <<EOF\necho hi\nEOF\n'), /^dockerfile parse error on line 2: heredocs \(<<\) are not supported by the legacy builder\. .*BuildKit/);
  assert.match(errOf('FROM a\nCOPY <<-"X" /f\nhi\nX\n'), /line 2: heredocs/);
  assert.match(errOf('FROM a\nONBUILD RUN cat <<EOF\nx\nEOF\n'), /line 2: heredocs/);
  // not heredocs: exec form, a here-string, a shift in a shell word, other instructions
  const p = parseDockerfile('FROM a\nRUN ["cat", "<<EOF"]\nRUN cat <<<hi\nRUN echo $((1<<2))\nLABEL a=<<b\n');
  assert.equal(p.stages[0].instructions.length, 4);
});

test('stages, AS names, meta args, escape directive, step text', () => {
  const p = parseDockerfile(
    '# syntax=docker/dockerfile:1\n# escape=`\nARG BASE=busybox\nARG V\nFROM ${BASE} AS Build\nRUN echo a `\n  # comment inside\n\n  b\nFROM --platform=linux/amd64 scratch\nCOPY --from=build --chown=1:2 /a /b\n',
  );
  assert.equal(p.escape, '`');
  assert.deepEqual(p.metaArgs.map((a) => a.original), ['ARG BASE=busybox', 'ARG V']);
  assert.equal(p.stages.length, 2);
  assert.equal(p.stages[0].name, 'build');
  assert.deepEqual(p.stages[0].from.args, ['${BASE}', 'AS', 'Build']);
  assert.equal(p.stages[0].from.line, 5);
  const run = p.stages[0].instructions[0];
  assert.equal(run.original, 'RUN echo a   b');
  assert.deepEqual(run.args, ['echo a   b']);
  assert.equal(run.json, false);
  assert.equal(run.line, 6);
  assert.equal(p.stages[1].name, undefined);
  assert.deepEqual(p.stages[1].from.flags, { platform: 'linux/amd64' });
  const cp = p.stages[1].instructions[0];
  assert.deepEqual(cp.flags, { from: 'build', chown: '1:2' });
  assert.deepEqual(cp.args, ['/a', '/b']);
  assert.equal(cp.original, 'COPY --from=build --chown=1:2 /a /b');
});

test('argument shapes per instruction', () => {
  const p = parseDockerfile(
    [
      'FROM a',
      'ENV A=1 B="two words" C=\'x\'',
      'ENV LEGACY some value here',
      'LABEL "com.x"="y z"',
      'EXPOSE 8080 443/udp 80',
      'CMD ["sh", "-c", "echo"]',
      'ENTRYPOINT top -b',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /a /b',
      'HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://x/ || exit 1',
      'HEALTHCHECK NONE',
      'ONBUILD RUN echo hi  ',
      'ARG X Y=2 Z="q r"',
      'SHELL ["/bin/bash", "-c"]',
      'RUN --mount=type=cache,target=/c make',
      'COPY --link --chmod=755 a b c/',
      '  workdir   /app  ',
    ].join('\n'),
  );
  const i = p.stages[0].instructions;
  assert.deepEqual(i[0].args, ['A', '1', '=', 'B', '"two words"', '=', 'C', "'x'", '=']);
  assert.deepEqual(i[1].args, ['LEGACY', 'some value here', '']);
  assert.deepEqual(i[2].args, ['"com.x"', '"y z"', '=']);
  assert.deepEqual(i[3].args, ['443/udp', '80', '8080']);
  assert.deepEqual([i[4].args, i[4].json], [['sh', '-c', 'echo'], true]);
  assert.deepEqual([i[5].args, i[5].json], [['top -b'], false]);
  assert.deepEqual([i[6].args, i[6].json], [['/data', '/logs'], true]);
  assert.deepEqual([i[7].args, i[7].json], [['/a', '/b'], false]);
  assert.deepEqual(i[8].args, ['CMD', 'curl -f http://x/ || exit 1']);
  assert.deepEqual(i[8].flags, { interval: '30s', retries: '3' });
  assert.deepEqual(i[9].args, ['NONE']);
  assert.deepEqual(i[10].args, ['RUN echo hi  ']);
  assert.equal(i[10].original, 'ONBUILD RUN echo hi');
  assert.deepEqual(i[11].args, ['X', 'Y=2', 'Z="q r"']);
  assert.deepEqual(i[12].args, ['/bin/bash', '-c']);
  assert.deepEqual(i[13].flags, { mount: 'type=cache,target=/c' });
  assert.deepEqual(i[14].flags, { link: 'true', chmod: '755' });
  assert.deepEqual([i[15].keyword, i[15].args, i[15].original], ['WORKDIR', ['/app'], 'workdir   /app']);
});

test('an ONBUILD trigger re-parses on its own', () => {
  const t = parseTrigger('COPY --chown=1 a /b');
  assert.equal(t.keyword, 'COPY');
  assert.deepEqual(t.flags, { chown: '1' });
  assert.throws(() => parseTrigger('RUNN x'), /unknown instruction: RUNN/);
});

test('empty continuation lines parse, with buildkit\'s warning', () => {
  const p = parseDockerfile('FROM busybox\nRUN echo a \\\n  # c\n\n  b\nLABEL x=1 \\\n      y=2\nRUN echo "q  r"   \n');
  assert.deepEqual(p.stages[0].instructions.map((i) => i.original), ['RUN echo a   b', 'LABEL x=1       y=2', 'RUN echo "q  r"']);
  assert.deepEqual(p.warnings, ['Empty continuation line found in: RUN echo a   b']);
  assert.equal(
    warningText(p),
    '[WARNING]: Empty continuation line found in: RUN echo a   b\n[WARNING]: Empty continuation lines will become errors in a future release.\n',
  );
  assert.equal(warningText(parseDockerfile('FROM a\n')), '');
});
