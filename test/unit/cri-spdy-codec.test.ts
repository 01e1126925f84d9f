import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from '../../src/cri/streaming/spdy/dictionary.js';
import { encodeFrame, FLAG_FIN, FrameReader, SpdyProtocolError, type Frame } from '../../src/cri/streaming/spdy/frames.js';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor } from '../../src/cri/streaming/spdy/header-block.js';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

test('the SPDY/3 dictionary is the 1,423 bytes whose Adler-32 peers check', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(adler32(SPDY3_DICTIONARY), 0xe3c6a7c2);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
});

const samples: Frame[] = [
  { type: 'data', streamId: 5, flags: 0, data: Buffer.from('hello') },
  { type: 'data', streamId: 7, flags: FLAG_FIN, data: Buffer.alloc(0) },
  { type: 'syn_stream', streamId: 3, associatedId: 0, priority: 2, flags: FLAG_FIN, block: Buffer.from([1, 2, 3]) },
  { type: 'syn_reply', streamId: 3, flags: 0, block: Buffer.from([9, 8]) },
  { type: 'headers', streamId: 3, flags: FLAG_FIN, block: Buffer.alloc(0) },
  { type: 'rst_stream', streamId: 9, status: 5 },
  { type: 'settings', flags: 0, entries: [{ id: 7, flags: 1, value: 65536 }, { id: 4, flags: 0, value: 100 }] },
  { type: 'ping', id: 0xfffffffe },
  { type: 'goaway', lastGoodStreamId: 11, status: 0 },
  { type: 'window_update', streamId: 0, delta: 32768 },
];

test('every frame type survives encode then decode', () => {
  for (const f of samples) {
    const [back, ...rest] = new FrameReader().push(encodeFrame(f));
    assert.deepEqual(rest, []);
    assert.deepEqual(back, f);
  }
});

test('control frames carry version 3 and the C bit; data frames do not', () => {
  const ping = encodeFrame({ type: 'ping', id: 1 });
  assert.equal(ping.readUInt16BE(0), 0x8003);
  assert.equal(ping.readUInt16BE(2), 6);
  assert.equal(ping.readUInt32BE(4), 4);
  const data = encodeFrame({ type: 'data', streamId: 1, flags: FLAG_FIN, data: Buffer.from('ab') });
  assert.deepEqual([...data], [0, 0, 0, 1, 1, 0, 0, 2, 0x61, 0x62]);
});

test('frames split across TCP chunks, byte by byte or many per chunk, come out whole and in order', () => {
  const wire = Buffer.concat(samples.map(encodeFrame));
  const r = new FrameReader();
  const got: Frame[] = [];
  for (const byte of wire) got.push(...r.push(Buffer.from([byte])));
  assert.deepEqual(got, samples);
  assert.deepEqual(new FrameReader().push(wire), samples);
  // odd cut points
  const r2 = new FrameReader();
  const got2: Frame[] = [];
  for (let i = 0; i < wire.length; i += 7) got2.push(...r2.push(wire.subarray(i, i + 7)));
  assert.deepEqual(got2, samples);
});

test('an unknown control type is skipped; a wrong version or an oversized frame is a protocol error', () => {
  const unknown = encodeFrame({ type: 'ping', id: 1 });
  unknown.writeUInt16BE(0x42, 2);
  assert.deepEqual(new FrameReader().push(unknown), [{ type: 'unknown', frameType: 0x42 }]);
  const v2 = encodeFrame({ type: 'ping', id: 1 });
  v2.writeUInt16BE(0x8002, 0);
  assert.throws(() => new FrameReader().push(v2), SpdyProtocolError);
  const big = encodeFrame({ type: 'data', streamId: 1, flags: 0, data: Buffer.alloc(100) });
  assert.throws(() => new FrameReader(50).push(big), SpdyProtocolError);
  const short = Buffer.from([0x80, 3, 0, 3, 0, 0, 0, 2, 0, 0]);
  assert.throws(() => new FrameReader().push(short), SpdyProtocolError);
});

test('header blocks: 32-bit lengths, lower-case names, NUL-joined values', () => {
  const raw = encodeHeaderBlock({ StreamType: ['stdout'], 'x-multi': ['a', 'b'] });
  assert.equal(raw.readUInt32BE(0), 2);
  assert.equal(raw.readUInt32BE(4), 10);
  assert.equal(raw.subarray(8, 18).toString(), 'streamtype');
  assert.deepEqual(decodeHeaderBlock(raw), { streamtype: ['stdout'], 'x-multi': ['a', 'b'] });
  assert.throws(() => decodeHeaderBlock(raw.subarray(0, raw.length - 1)), SpdyProtocolError);
});

test('one compression context per direction: later blocks depend on earlier ones, and any zlib with the dictionary reads them', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const h1 = { streamtype: ['stdin'], port: ['80'] };
  const [b1, b2] = await Promise.all([c.compress(h1), c.compress(h1)]);
  assert.ok(b2.length < b1.length, 'the repeated block is coded against the first');
  assert.deepEqual(await d.decompress(b1), h1);
  assert.deepEqual(await d.decompress(b2), h1);
  // a stock zlib inflater with the preset dictionary reads the first block: the bytes are plain zlib
  const plain = zlib.inflateSync(b1, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(decodeHeaderBlock(plain), h1);
  // a fresh context cannot read the second block alone
  await assert.rejects(new HeaderDecompressor().decompress(b2));
  // and blocks compressed by a stock deflater with the dictionary read back here
  const fresh = new HeaderDecompressor();
  const foreign = zlib.deflateSync(encodeHeaderBlock({ a: ['1'] }), { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(await fresh.decompress(foreign), { a: ['1'] });
  c.close();
  d.close();
});

test('garbage in a header block, or a block that inflates without bound, is a protocol error, not a crash', async () => {
  await assert.rejects(new HeaderDecompressor().decompress(Buffer.from('not zlib at all')), SpdyProtocolError);
  const bomb = zlib.deflateSync(Buffer.alloc(10 * 1024 * 1024), { dictionary: SPDY3_DICTIONARY });
  await assert.rejects(new HeaderDecompressor().decompress(bomb), SpdyProtocolError);
});
