import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogTime, formatRfc3339NanoFixed } from '../../src/engine/logs/index.js';
import { parseK8sTimestamp } from '../../src/engine/logs/log-time.js';
import { parseK8sLine } from '../../src/engine/logs/k8s-file-line.js';
import { InvalidParameterError } from '../../src/errors.js';

test('parseLogTime reads <seconds>[.<nanoseconds>] like moby', () => {
  assert.equal(parseLogTime('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseLogTime('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.equal(parseLogTime('1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseLogTime('0'), 0n);
  assert.equal(parseLogTime(''), 0n);
  for (const bad of ['abc', '1.2.3', '12a', '1.', ' 1', '1e9', '1.x']) {
    assert.throws(() => parseLogTime(bad), InvalidParameterError, bad);
  }
});

test('formatRfc3339NanoFixed always prints 9 digits in UTC', () => {
  assert.equal(formatRfc3339NanoFixed(1_704_164_645_123_456_789n), '2024-01-02T03:04:05.123456789Z');
  assert.equal(formatRfc3339NanoFixed(1_704_164_645_000_000_000n), '2024-01-02T03:04:05.000000000Z');
  assert.equal(formatRfc3339NanoFixed(1_704_164_645_000_000_010n), '2024-01-02T03:04:05.000000010Z');
  assert.equal(formatRfc3339NanoFixed(0n), '1970-01-01T00:00:00.000000000Z');
});

test('k8s timestamps honour the zone offset conmon writes', () => {
  const utc = parseK8sTimestamp('2026-11-28T14:48:05.200086653+00:00');
  assert.equal(utc, BigInt(Date.UTC(2026, 10, 28, 14, 48, 5)) * 1_000_000n + 200_086_653n);
  assert.equal(parseK8sTimestamp('2026-11-28T15:48:05.200086653+01:00'), utc);
  assert.equal(parseK8sTimestamp('2026-11-28T09:18:05.200086653-05:30'), utc);
  assert.equal(parseK8sTimestamp('2026-11-28T14:48:05.200086653Z'), utc);
  assert.equal(parseK8sTimestamp('yesterday'), undefined);
});

test('F lines keep their newline, P lines lose the one conmon added', () => {
  const full = parseK8sLine(Buffer.from('2026-11-28T14:48:05.200086653+00:00 stdout F line 0\n'));
  assert.equal(full?.stream, 'stdout');
  assert.equal(full?.partial, false);
  assert.equal(full?.data.toString(), 'line 0\n');
  const partial = parseK8sLine(Buffer.from('2026-11-28T14:48:05.200086653+00:00 stderr P no newline\n'));
  assert.equal(partial?.stream, 'stderr');
  assert.equal(partial?.partial, true);
  assert.equal(partial?.data.toString(), 'no newline');
  const empty = parseK8sLine(Buffer.from('2026-11-28T14:48:05.200086653+00:00 stdout F \n'));
  assert.equal(empty?.data.toString(), '\n');
});

test('data containing separators and binary bytes comes out untouched', () => {
  const payload = Buffer.from([0x20, 0x46, 0x20, 0x50, 0x20, 0x00, 0xff, 0x0d, 0x73, 0x74, 0x64, 0x6f, 0x75, 0x74, 0x20]);
  const line = Buffer.concat([Buffer.from('2026-11-28T14:48:05.200086653+00:00 stdout P '), payload, Buffer.from('\n')]);
  assert.deepEqual(parseK8sLine(line)?.data, payload);
});

test('lines that are not log lines are rejected', () => {
  assert.equal(parseK8sLine(Buffer.from('garbage\n')), undefined);
  assert.equal(parseK8sLine(Buffer.from('2026-11-28T14:48:05.2+00:00 stdin F x\n')), undefined);
  assert.equal(parseK8sLine(Buffer.from('notatime stdout F x\n')), undefined);
  assert.equal(parseK8sLine(Buffer.from('2026-11-28T14:48:05.2+00:00 stdout X x\n')), undefined);
});

test('an entry prints its time as docker logs -t does, whatever zone and digits the stamp has', () => {
  const at = (stamp: string) => parseK8sLine(Buffer.from(`${stamp} stdout F x\n`))!;
  assert.equal(at('2026-11-28T14:48:05.200086653+00:00').time, '2026-11-28T14:48:05.200086653Z');
  assert.equal(at('2026-11-28T15:48:05.200086653+01:00').time, '2026-11-28T14:48:05.200086653Z');
  assert.equal(at('2026-11-28T09:18:05.000000001-05:30').time, '2026-11-28T14:48:05.000000001Z');
  assert.equal(at('2026-11-28T14:48:05.2+00:00').time, '2026-11-28T14:48:05.200000000Z');
  assert.equal(at('2026-11-28T14:48:05Z').time, '2026-11-28T14:48:05.000000000Z');
  // the UTC shortcut agrees with the full parse over many instants
  for (let i = 0; i < 2000; i++) {
    const ns = BigInt(Math.floor(Math.random() * 4e9)) * 1_000_000_000n + BigInt(Math.floor(Math.random() * 1e9));
    const utc = formatRfc3339NanoFixed(ns);
    const e = at(`${utc.slice(0, -1)}+00:00`);
    assert.equal(e.time, utc);
    assert.equal(e.timeNs, ns);
  }
});
