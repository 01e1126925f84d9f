// Exec request decoding, environment merge and detach-key matching (pure units).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachKeyMatcher } from '../../src/engine/exec/detach.js';
import { execEnvironment, replaceOrAppendEnv } from '../../src/engine/exec/env.js';
import { parseExecCreate, parseExecStart } from '../../src/engine/exec/request.js';
import { InvalidParameterError } from '../../src/errors.js';

test('exec create body: Go-decoder rules (case-insensitive names, StrSlice Cmd, defaults)', () => {
  const o = parseExecCreate({ cmd: 'ls -l', attachstdout: true, Env: ['A=b'], consoleSize: [24, 80], Unknown: 1 });
  assert.deepEqual(o.Cmd, ['ls -l']);
  assert.equal(o.AttachStdout, true);
  assert.equal(o.AttachStdin, false);
  assert.deepEqual(o.ConsoleSize, [24, 80]);
  assert.deepEqual(o.Env, ['A=b']);
  assert.equal(o.User, '');
  assert.deepEqual(parseExecCreate(undefined).Cmd, []);
  assert.throws(() => parseExecCreate({ Tty: 'yes' }), InvalidParameterError);
  assert.throws(() => parseExecCreate({ Cmd: [1] }), /cannot unmarshal array into Go struct field ExecOptions.Cmd/);
  assert.throws(() => parseExecCreate({ ConsoleSize: [1] }), InvalidParameterError);
});

test('exec start body', () => {
  assert.deepEqual(parseExecStart({ Detach: true }), { Detach: true, Tty: false, ConsoleSize: null });
  assert.deepEqual(parseExecStart({ tty: true, ConsoleSize: [10, 20] }), { Detach: false, Tty: true, ConsoleSize: [10, 20] });
});

test('exec environment: daemon defaults, container env, then -e (moby ReplaceOrAppendEnvValues)', () => {
  const env = execEnvironment({ Env: ['A=1', 'B=2'], Hostname: 'h' }, true, ['B=3', 'C=4']);
  assert.deepEqual(env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h', 'TERM=xterm', 'A=1', 'B=3', 'C=4']);
  const own = execEnvironment({ Env: ['PATH=/x'], Hostname: 'h' }, false, []);
  assert.deepEqual(own, ['HOSTNAME=h', 'PATH=/x']);
  // A bare key unsets it.
  assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2'], ['A']), ['B=2']);
});

test('detach keys: a complete sequence detaches, a broken one passes its bytes on', () => {
  const m = new DetachKeyMatcher([0x10, 0x11]);
  assert.deepEqual(m.feed(Buffer.from('ab')), { pass: Buffer.from('ab'), detached: false });
  let r = m.feed(Buffer.from([0x61, 0x10]));
  assert.deepEqual([...r.pass], [0x61]);
  assert.equal(r.detached, false);
  r = m.feed(Buffer.from([0x11]));
  assert.equal(r.detached, true);
  r = m.feed(Buffer.from([0x10, 0x62]));
  assert.deepEqual([...r.pass], [0x10, 0x62]);
  r = m.feed(Buffer.from([0x10, 0x10, 0x11]));
  assert.equal(r.detached, true);
  assert.deepEqual([...r.pass], [0x10]);
});
