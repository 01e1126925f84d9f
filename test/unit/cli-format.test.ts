import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ellipsis, formatG, goDurationSeconds, humanAgo, humanDuration, humanSize, humanSizeWithPrecision, shortId } from '../../cli/client/format.js';
import { renderTable } from '../../cli/client/table.js';
import { splitPullRef } from '../../cli/client/image-ref.js';
import { toApiTimestamp } from '../../cli/client/time-arg.js';
import { FrameDemuxer } from '../../cli/client/stdcopy.js';
import { psRows } from '../../cli/client/commands/ps.js';
import { imageRows } from '../../cli/client/commands/images.js';

test('human durations follow go-units', () => {
  const s = 1000;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(119 * s), 'About a minute');
  assert.equal(humanDuration(120 * s), '2 minutes');
  assert.equal(humanDuration(59 * 60 * s), '59 minutes');
  assert.equal(humanDuration(60 * 60 * s), 'About an hour');
  assert.equal(humanDuration(3 * 3600 * s), '3 hours');
  assert.equal(humanDuration(47 * 3600 * s), '47 hours');
  assert.equal(humanDuration(3 * 86400 * s), '3 days');
  assert.equal(humanDuration(20 * 86400 * s), '2 weeks');
  assert.equal(humanDuration(90 * 86400 * s), '3 months');
  assert.equal(humanDuration(3 * 365 * 86400 * s), '3 years');
  assert.equal(humanAgo(1000, 1000 * 1000 + 120_000), '2 minutes ago');
});

test('human sizes use decimal units and %.3g like docker images', () => {
  assert.equal(humanSize(4_261_000), '4.26MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1_500_000), '1.5MB');
  assert.equal(humanSize(77_800_000), '77.8MB');
  assert.equal(humanSize(123_456_789), '123MB');
  assert.equal(humanSize(2_000_000_000), '2GB');
  assert.equal(humanSizeWithPrecision(32_540_000, 4), '32.54MB');
  assert.equal(formatG(999.6, 3), '1e+03');
  assert.equal(formatG(0.00001234, 3), '1.23e-05');
});

test('go duration strings and ellipsis', () => {
  assert.equal(goDurationSeconds(5), '5s');
  assert.equal(goDurationSeconds(120), '2m0s');
  assert.equal(goDurationSeconds(3725), '1h2m5s');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('sh -c while true; do sleep 1; done', 20), 'sh -c while true; d…');
  assert.equal([...ellipsis('sh -c while true; do sleep 1; done', 20)].length, 20);
  assert.equal(shortId('sha256:0123456789abcdef0123'), '0123456789ab');
});

test('tables pad columns to the widest cell plus 3, at least 10', () => {
  assert.equal(renderTable([['A', 'LONGER HEADER', 'Z'], ['value', 'x', 'last']]), 'A         LONGER HEADER   Z\nvalue     x               last\n');
});

test('pull references split like the docker CLI', () => {
  assert.deepEqual(splitPullRef('busybox'), { fromImage: 'busybox', tag: 'latest', defaultTag: true, canonical: 'docker.io/library/busybox:latest' });
  assert.deepEqual(splitPullRef('docker.io/library/busybox:1.36'), { fromImage: 'busybox', tag: '1.36', defaultTag: false, canonical: 'docker.io/library/busybox:1.36' });
  assert.equal(splitPullRef('localhost:5000/team/app').fromImage, 'localhost:5000/team/app');
  assert.equal(splitPullRef('localhost:5000/team/app').tag, 'latest');
  assert.equal(splitPullRef('127.0.0.1:5000/app:v2').tag, 'v2');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(splitPullRef(`user/app@${digest}`), { fromImage: 'user/app', tag: digest, defaultTag: false, canonical: `docker.io/user/app@${digest}` });
});

test('since/until values become unix timestamps', () => {
  assert.equal(toApiTimestamp('1700000000'), '1700000000');
  assert.equal(toApiTimestamp('10m', 1_700_000_600_000), '1700000000.000000000');
  assert.equal(toApiTimestamp('1h30m', 1_700_005_400_000), '1700000000.000000000');
  assert.equal(toApiTimestamp('2023-11-14T22:13:20Z'), '1700000000.000000000');
  assert.throws(() => toApiTimestamp('whenever'));
});

test('stdcopy frames are demultiplexed across arbitrary splits', () => {
  const frame = (type: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = type;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  const wire = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'x'.repeat(70000))]);
  for (const step of [1, 3, 8, 9, 1000, wire.length]) {
    const got: Array<[number, string]> = [];
    const demux = new FrameDemuxer((type, payload) => got.push([type, payload.toString()]));
    for (let i = 0; i < wire.length; i += step) demux.push(wire.subarray(i, i + step));
    assert.deepEqual(got, [[1, 'out 1\n'], [2, 'err\n'], [1, ''], [1, 'x'.repeat(70000)]], `step ${step}`);
    assert.equal(demux.leftover, 0);
  }
});

test('ps rows quote and truncate the command and clean names', () => {
  const now = 1_700_000_000_000;
  const rows = psRows([{
    Id: 'f'.repeat(64),
    Names: ['/web', '/other/alias'],
    Image: 'busybox',
    Command: 'sh -c "while true; do sleep 1; done"',
    Created: now / 1000 - 120,
    Status: 'Up 2 minutes',
    Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }],
  }], now);
  assert.deepEqual(rows[1], ['ffffffffffff', 'busybox', '"sh -c \\"while true; …"', '2 minutes ago', 'Up 2 minutes', '0.0.0.0:8080->80/tcp, 53/udp', 'web']);
});

test('image rows: one per tag, <none> for untagged, newest first', () => {
  const now = 1_700_000_000_000;
  const rows = imageRows([
    { Id: `sha256:${'1'.repeat(64)}`, RepoTags: ['busybox:latest', 'localhost:5000/bb:v1'], Created: now / 1000 - 7200, Size: 4_261_000 },
    { Id: `sha256:${'2'.repeat(64)}`, RepoTags: [], RepoDigests: [], Created: now / 1000 - 60, Size: 1000 },
  ], now);
  assert.deepEqual(rows.slice(1), [
    ['<none>', '<none>', '222222222222', 'About a minute ago', '1kB'],
    ['busybox', 'latest', '111111111111', '2 hours ago', '4.26MB'],
    ['localhost:5000/bb', 'v1', '111111111111', '2 hours ago', '4.26MB'],
  ]);
});
