import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { encodeFrame, FLAG_FIN, FrameReader, RstStatus, type Frame } from '../../src/cri/streaming/spdy/frames.js';
import { HeaderCompressor, HeaderDecompressor } from '../../src/cri/streaming/spdy/header-block.js';
import { SpdySession, type SpdyStream } from '../../src/cri/streaming/spdy/session.js';

/** A server session on one end of a loopback connection; the other end is a raw socket. */
async function connect(): Promise<{ server: Promise<SpdySession>; client: net.Socket; close: () => void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const server = new Promise<SpdySession>((resolve) => srv.once('connection', (sock) => resolve(new SpdySession(sock, { role: 'server' }))));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  return {
    server,
    client,
    close: () => {
      client.destroy();
      srv.close();
    },
  };
}

/** Reads frames off a raw socket, inflating header blocks with the peer's context. */
function frameLog(sock: net.Socket) {
  const reader = new FrameReader();
  const inflate = new HeaderDecompressor();
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  let chain = Promise.resolve();
  sock.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      chain = chain.then(async () => {
        if ('block' in f) await inflate.decompress(f.block);
        frames.push(f);
        for (const w of waiters.splice(0)) if (w.pred(f)) w.resolve(f);
        else waiters.push(w);
      });
    }
  });
  return {
    frames,
    next(pred: (f: Frame) => boolean): Promise<Frame> {
      const seen = frames.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

/** Reads to the end without destroying the stream (for-await would, write side and all). */
function readAll(s: SpdyStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (c: Buffer) => parts.push(c));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('close', () => reject(new Error('stream closed before its end')));
  });
}

test('client and server sessions: streams with headers, data both ways, FIN both ways, ping', async () => {
  const { server, client, close } = await connect();
  const cs = new SpdySession(client, { role: 'client' });
  const serverStream = new Promise<SpdyStream>((resolve) => void server.then((ss) => ss.once('stream', (s: SpdyStream) => resolve(s))));
  // The server answers only when asked: replies come from its stream handler.
  void serverStream.then((s) => s.reply());
  const opened = cs.openStream({ streamtype: ['stdout'], port: ['80'] });
  const ss = await serverStream;
  assert.equal(ss.header('streamType'), 'stdout');
  assert.equal(ss.id, 1);
  const cstream = await opened;
  cstream.end('from client');
  assert.equal((await readAll(ss)).toString(), 'from client');
  ss.end('from server');
  assert.equal((await readAll(cstream)).toString(), 'from server');
  await cs.ping();
  const second = cs.openStream({ streamtype: ['error'] });
  const ss2 = await new Promise<SpdyStream>((resolve) => void server.then((s) => s.once('stream', resolve)));
  assert.equal(ss2.id, 3);
  ss2.reply();
  await second;
  assert.equal(cs.streamCount, 1);
  const clientClosed = once(cs, 'close');
  (await server).close();
  await clientClosed;
  close();
});

test('the server sends nothing before the client speaks, and echoes a ping unchanged', async () => {
  const { server, client, close } = await connect();
  await server;
  const log = frameLog(client);
  client.write(encodeFrame({ type: 'ping', id: 7 }));
  const first = await log.next(() => true);
  assert.deepEqual(first, { type: 'ping', id: 7 });
  close();
});

test('a peer that never sends WINDOW_UPDATE (Go spdystream) still gets more than 64 KiB', async () => {
  const { server, client, close } = await connect();
  const ss = await server;
  const log = frameLog(client);
  const deflate = new HeaderCompressor();
  ss.once('stream', (s: SpdyStream) => s.end(Buffer.alloc(1024 * 1024, 0x61)));
  client.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: FLAG_FIN, block: await deflate.compress({ streamtype: ['stdout'] }) }));
  await log.next((f) => f.type === 'data' && (f.flags & FLAG_FIN) !== 0);
  const frames = log.frames;
  assert.equal(frames[0]!.type, 'syn_reply', 'SYN_REPLY comes before any DATA');
  const total = frames.reduce((n, f) => n + (f.type === 'data' ? f.data.length : 0), 0);
  assert.equal(total, 1024 * 1024);
  assert.ok(frames.every((f) => f.type !== 'data' || f.data.length <= 32 * 1024));
  close();
});

test('a peer that does flow control gets no more than its window until it sends WINDOW_UPDATE', async () => {
  const { server, client, close } = await connect();
  const ss = await server;
  const log = frameLog(client);
  const deflate = new HeaderCompressor();
  ss.once('stream', (s: SpdyStream) => s.end(Buffer.alloc(100_000, 0x62)));
  client.write(encodeFrame({ type: 'settings', flags: 0, entries: [{ id: 7, flags: 0, value: 65536 }] }));
  client.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: FLAG_FIN, block: await deflate.compress({}) }));
  const received = () => log.frames.reduce((n, f) => n + (f.type === 'data' ? f.data.length : 0), 0);
  await log.next(() => received() >= 65536);
  // Frames are ordered: had the server ignored the window, all 100,000 bytes would precede the echo.
  client.write(encodeFrame({ type: 'ping', id: 9 }));
  await log.next((f) => f.type === 'ping');
  assert.equal(received(), 65536);
  client.write(encodeFrame({ type: 'window_update', streamId: 1, delta: 100_000 }));
  await log.next((f) => f.type === 'data' && (f.flags & FLAG_FIN) !== 0);
  assert.equal(received(), 100_000);
  close();
});

test('the receiving side credits its windows as data is read (stream and session WINDOW_UPDATE)', async () => {
  const { server, client, close } = await connect();
  const ss = await server;
  const log = frameLog(client);
  const deflate = new HeaderCompressor();
  const got = new Promise<Buffer>((resolve) => ss.once('stream', (s: SpdyStream) => void readAll(s).then(resolve)));
  client.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: 0, block: await deflate.compress({}) }));
  for (let i = 0; i < 8; i++) client.write(encodeFrame({ type: 'data', streamId: 1, flags: 0, data: Buffer.alloc(32 * 1024) }));
  client.write(encodeFrame({ type: 'data', streamId: 1, flags: FLAG_FIN, data: Buffer.alloc(0) }));
  assert.equal((await got).length, 256 * 1024);
  await log.next((f) => f.type === 'window_update' && f.streamId === 1);
  await log.next((f) => f.type === 'window_update' && f.streamId === 0);
  close();
});

test('RST_STREAM from the peer ends the stream; DATA for an unknown stream is refused; garbage ends the session', async () => {
  const { server, client, close } = await connect();
  const ss = await server;
  const log = frameLog(client);
  const deflate = new HeaderCompressor();
  const opened = new Promise<SpdyStream>((resolve) => ss.once('stream', resolve));
  client.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: 0, block: await deflate.compress({}) }));
  const s = await opened;
  s.reply();
  client.write(encodeFrame({ type: 'rst_stream', streamId: 1, status: RstStatus.CANCEL }));
  await once(s, 'close');
  assert.equal(s.resetStatus, RstStatus.CANCEL);
  assert.equal(ss.streamCount, 0);
  client.write(encodeFrame({ type: 'data', streamId: 41, flags: 0, data: Buffer.from('x') }));
  const rst = await log.next((f) => f.type === 'rst_stream');
  assert.deepEqual(rst, { type: 'rst_stream', streamId: 41, status: RstStatus.INVALID_STREAM });
  const closed = once(ss, 'close');
  client.write(Buffer.from([0x80, 0x09, 0, 1, 0, 0, 0, 0]));
  await log.next((f) => f.type === 'goaway');
  await closed;
  close();
});

test('random bytes and random frames from a peer never throw out of the session', async () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  for (let round = 0; round < 30; round++) {
    const { server, client, close } = await connect();
    const ss = await server;
    ss.on('stream', (s: SpdyStream) => {
      s.reply();
      s.resume();
      s.end('x');
    });
    const deflate = new HeaderCompressor();
    const frames: Buffer[] = [encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: 0, block: await deflate.compress({ a: ['b'] }) })];
    for (let i = 0; i < 20; i++) {
      const pick = rand();
      if (pick < 0.3) frames.push(bytes(Math.floor(rand() * 40)));
      else if (pick < 0.6) frames.push(encodeFrame({ type: 'data', streamId: 1 + 2 * Math.floor(rand() * 3), flags: rand() < 0.2 ? FLAG_FIN : 0, data: bytes(Math.floor(rand() * 100)) }));
      else if (pick < 0.8) frames.push(encodeFrame({ type: 'window_update', streamId: Math.floor(rand() * 4), delta: Math.floor(rand() * 0x7fffffff) }));
      else {
        // a control frame with a random type and payload
        const f = encodeFrame({ type: 'ping', id: 1 });
        f.writeUInt16BE(Math.floor(rand() * 12), 2);
        frames.push(Buffer.concat([f.subarray(0, 4), Buffer.from([0, 0, 0, 8]), bytes(8)]));
      }
    }
    const closed = new Promise<void>((resolve) => ss.once('close', () => resolve()));
    client.write(Buffer.concat(frames));
    client.end();
    await closed;
    assert.equal(ss.streamCount, 0);
    close();
  }
});
