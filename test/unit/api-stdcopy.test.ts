import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder, FrameEncoder, StdStream, decodeFrames, frame, frameHeader } from '../../src/api/stdcopy.js';

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
