import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { envFromList, expandWord, expandWords } from '../../src/images/build/dockerfile/shell-words.js';

const FIXTURES = new URL('../../../test/fixtures/dockerfile/', import.meta.url);

test('buildkit envVarTest: every ProcessWord case (Unix)', () => {
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  let n = 0;
  for (const raw of readFileSync(new URL('envVarTest', FIXTURES), 'utf8').split('\n')) {
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const [platform, source, expected] = raw.trim().split('|').map((s) => s.trim());
    if (platform === 'W') continue;
    n++;
    if (expected === 'error') {
      assert.throws(() => expandWord(source, env), /./, source);
    } else {
      assert.equal(expandWord(source, env), expected, source);
    }
  }
  assert.ok(n > 150);
});

test('buildkit wordsTest: every ProcessWords case', () => {
  const envs: string[] = [];
  let n = 0;
  for (const line of readFileSync(new URL('wordsTest', FIXTURES), 'utf8').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      continue;
    }
    const parts = line.split('|');
    assert.equal(parts.length, 2, line);
    const src = parts[0].trim();
    const expected = parts[1].replace(/^ +/, '').split(',');
    let got: string[];
    try {
      got = expandWords(src, envFromList(envs));
    } catch {
      got = ['error'];
    }
    assert.deepEqual(got, expected, src);
    n++;
  }
  assert.ok(n > 20);
});

test('modifiers and their errors, as buildkit words them', () => {
  const env = envFromList(['VAR=plain', 'ARG=x', 'EMPTY=', 'P=/usr/local/bin/tool.tar.gz']);
  assert.equal(expandWord('${VAR:?message here$ARG}', env), 'plain');
  assert.throws(() => expandWord('${EMPTY:?message here$ARG}', env), { message: 'failed to process "${EMPTY:?message here$ARG}": EMPTY: message herex' });
  assert.throws(() => expandWord('${NOPE?}', env), { message: 'failed to process "${NOPE?}": NOPE: is not allowed to be unset' });
  assert.throws(() => expandWord('${EMPTY:?}', env), /EMPTY: is not allowed to be empty/);
  assert.equal(expandWord('${EMPTY?}', env), '');
  assert.equal(expandWord('${NOPE:-d} ${EMPTY:-d} ${EMPTY-d} ${VAR:+alt} ${EMPTY:+alt} ${EMPTY+alt}', env), 'd d  alt  alt');
  assert.equal(expandWord('${P#*/} ${P##*/} ${P%.*} ${P%%.*}', env), 'usr/local/bin/tool.tar.gz tool.tar.gz /usr/local/bin/tool.tar /usr/local/bin/tool');
  assert.equal(expandWord('${P/o/0} ${P//o/0}', env), '/usr/l0cal/bin/tool.tar.gz /usr/l0cal/bin/t00l.tar.gz');
  assert.throws(() => expandWord('${VAR', env), /unsupported modifier \(\ufffd\) in substitution/);
  assert.throws(() => expandWord('${VAR:-x', env), /syntax error: missing '}'/);
  assert.throws(() => expandWord('${:x}', env), /bad substitution/);
  assert.throws(() => expandWord('${VAR:#x}', env), /unsupported modifier \(:#\) in substitution/);
  assert.throws(() => expandWord('${VAR^x}', env), /unsupported modifier \(\^\) in substitution/);
});

test('the backtick escape (escape=` directive)', () => {
  const env = envFromList(['A=1']);
  assert.equal(expandWord('C:\\dir\\$A', env, '`'), 'C:\\dir\\1');
  assert.equal(expandWord('`$A and "`$A"', env, '`'), '$A and $A');
  assert.deepEqual(expandWords('a` b c', env, '`'), ['a b', 'c']);
});
