import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameBatcher, FrameDecoder, FrameEncoder, StdStream, decodeFrames, frame, frameHeader } from '../../src/api/stdcopy.js';

test('frame header: stream type, three zero bytes, big-endian length', () => {
  assert.deepEqual([...frame(StdStream.Stdout, 'hi\n')], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  assert.deepEqual([...frameHeader(StdStream.Stderr, 0x01020304)], [2, 0, 0, 0, 1, 2, 3, 4]);
  assert.deepEqual([...frame(StdStream.SystemErr, '')], [3, 0, 0, 0, 0, 0, 0, 0]);
});

test('FrameEncoder frames each write and the decoder reads them back', async () => {
  const enc = new FrameEncoder(StdStream.Stderr);
  const out: Buffer[] = [];
  enc.on('data', (c: Buffer) => out.push(c));
  enc.write('one');
  enc.write(Buffer.alloc(70000, 0x61));
  enc.write('');
  enc.end('two');
  await new Promise((r) => enc.on('end', r));
  const frames = decodeFrames(Buffer.concat(out));
  assert.deepEqual(frames.map((f) => [f.stream, f.payload.length]), [[2, 3], [2, 70000], [2, 3]]);
  assert.equal(frames[2]!.payload.toString(), 'two');
});

test('the incremental decoder handles frames split anywhere', () => {
  const data = Buffer.concat([frame(StdStream.Stdout, 'hello'), frame(StdStream.Stderr, 'err'), frame(StdStream.Stdout, 'x')]);
  for (let cut = 0; cut <= data.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(data.subarray(0, cut)), ...d.push(data.subarray(cut))];
    assert.deepEqual(frames.map((f) => `${f.stream}:${f.payload}`), ['1:hello', '2:err', '1:x'], `cut at ${cut}`);
    assert.equal(d.buffered, 0);
  }
});

test('unknown stream types and truncated frames are errors', () => {
  assert.throws(() => decodeFrames(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), /Unrecognized input header/);
  assert.throws(() => decodeFrames(frame(StdStream.Stdout, 'abc').subarray(0, 9)), /truncated/);
});

test('FrameBatcher: one frame per message, a run of one stream included, all in one buffer', () => {
  const b = new FrameBatcher(false);
  b.push(StdStream.Stdout, Buffer.from('a\n'));
  b.push(StdStream.Stdout, Buffer.from('b\n'));
  b.push(StdStream.Stderr, Buffer.from('E\n'));
  b.push(StdStream.Stdout, Buffer.from('partial'));
  b.push(StdStream.Stdout, Buffer.from('c\n'));
  assert.equal(b.size, 5 * 8 + 2 + 2 + 2 + 7 + 2);
  const frames = decodeFrames(b.take()!);
  assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'a\n'], [1, 'b\n'], [2, 'E\n'], [1, 'partial'], [1, 'c\n']]);
  assert.equal(b.take(), undefined);
  assert.equal(b.size, 0);
});

test('FrameBatcher: a prefix (the timestamp) starts the payload of its frame', () => {
  const b = new FrameBatcher(false);
  b.push(StdStream.Stdout, Buffer.from('hello\n'), '2026-11-29T15:00:00.000000001Z ');
  b.push(StdStream.Stderr, Buffer.from('x'), 'T ');
  assert.deepEqual(decodeFrames(b.take()!).map((f) => [f.stream, f.payload.toString()]), [[1, '2026-11-29T15:00:00.000000001Z hello\n'], [2, 'T x']]);
});

test('FrameBatcher: batches larger than its first buffer, and a taken batch is never written again', () => {
  const b = new FrameBatcher(false);
  const payloads = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(1 + (i % 300), 0x41 + (i % 26)));
  payloads.push(Buffer.alloc(100_000, 0x7a));
  for (const p of payloads) b.push(StdStream.Stdout, p);
  const first = b.take()!;
  const copy = Buffer.from(first);
  b.push(StdStream.Stderr, Buffer.alloc(50_000, 0x30));
  const second = b.take()!;
  assert.deepEqual(first, copy);
  assert.deepEqual(decodeFrames(first).map((f) => f.payload), payloads);
  assert.deepEqual(decodeFrames(second).map((f) => [f.stream, f.payload.length]), [[2, 50_000]]);
});

test('FrameBatcher raw (TTY): the bytes one after the other, prefixes included, no headers', () => {
  const raw = new FrameBatcher(true);
  raw.push(StdStream.Stdout, Buffer.from('x\r\n'), 'T1 ');
  raw.push(StdStream.Stderr, Buffer.from('y'));
  assert.equal(raw.size, 7);
  assert.equal(raw.take()!.toString(), 'T1 x\r\ny');
});
