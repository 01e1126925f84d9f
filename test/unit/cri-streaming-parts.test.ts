import assert from 'node:assert/strict';
import { test } from 'node:test';
import { socatReason } from '../../src/cri/streaming/pod-dial.js';
import { negotiate, offeredProtocols } from '../../src/cri/streaming/protocols.js';
import { ResizeDecoder } from '../../src/cri/streaming/resize.js';
import { exitStatus, failureStatus, successStatus } from '../../src/cri/streaming/status.js';
import { TokenCache } from '../../src/cri/streaming/tokens.js';
import { UnavailableError } from '../../src/errors.js';

test('tokens: single use, expire, URL-safe, capped', () => {
  let now = 0;
  const cache = new TokenCache<string>(1000, 2, () => now);
  const a = cache.insert('a');
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(cache.consume(a), 'a');
  assert.equal(cache.consume(a), undefined, 'a second use finds nothing');
  const b = cache.insert('b');
  now = 1000;
  assert.equal(cache.consume(b), undefined, 'expired');
  cache.insert('c');
  cache.insert('d');
  assert.throws(() => cache.insert('e'), UnavailableError);
  now = 5000;
  assert.equal(cache.size, 0, 'expired entries are swept');
  assert.notEqual(cache.insert('x'), cache.insert('y'));
});

test('protocol negotiation: the first offered one we speak, 400 without any, 403 with none in common', () => {
  const offered = offeredProtocols(['v5.channel.k8s.io', 'v4.channel.k8s.io, v3.channel.k8s.io']);
  assert.deepEqual(offered, ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io']);
  assert.deepEqual(negotiate(offered, ['v4.channel.k8s.io']), { ok: true, protocol: 'v4.channel.k8s.io' });
  assert.equal((negotiate([], ['v4.channel.k8s.io']) as { status: number }).status, 400);
  assert.equal((negotiate(['channel.k8s.io'], ['v4.channel.k8s.io']) as { status: number }).status, 403);
  assert.deepEqual(offeredProtocols(undefined), []);
});

test('resize: Go json.Encoder objects, split anywhere, junk and bad sizes dropped', () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.push('{"Width":80,'), []);
  assert.deepEqual(d.push('"Height":24}\n{"Width":1'), [{ width: 80, height: 24 }]);
  assert.deepEqual(d.push('00,"Height":30}\nnoise{"Width":0,"Height":5}{oops}{"Width":7,"Height":8}'), [
    { width: 100, height: 30 },
    { width: 7, height: 8 },
  ]);
  assert.deepEqual(d.push('{' + 'x'.repeat(5000)), []);
  assert.deepEqual(d.push('}{"Width":2,"Height":3}'), [{ width: 2, height: 3 }]);
});

test('v4 status: Success, NonZeroExitCode with the ExitCode cause, and plain failures', () => {
  assert.equal(JSON.stringify(successStatus()), '{"metadata":{},"status":"Success"}');
  assert.deepEqual(exitStatus(0), successStatus());
  const s = exitStatus(7, ['sh', '-c', 'exit 7']);
  assert.equal(s.status, 'Failure');
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details, { causes: [{ reason: 'ExitCode', message: '7' }] });
  assert.match(s.message!, /^command terminated with non-zero exit code: .*sh -c exit 7.*exit code 7$/);
  assert.deepEqual(failureStatus('boom'), { metadata: {}, status: 'Failure', message: 'boom' });
});

test("socat's error line becomes its reason", () => {
  assert.equal(socatReason('2026/11/29 23:00:00 socat[123] E connect(5, AF=2 127.0.0.1:81, 16): Connection refused\n'), 'Connection refused');
  assert.equal(socatReason(''), '');
});
