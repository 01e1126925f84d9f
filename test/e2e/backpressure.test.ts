// A client that stops reading must not make the daemon buffer the container's output (security
// review §5): attach, exec and the logs=1 replay keep the daemon's memory bounded, the daemon
// keeps answering meanwhile, and the client gets an intact stream once it reads again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { daemonForFile, type Daemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
/** What the container writes: far more than the daemon may hold for one client. */
const OUTPUT_BYTES = 256 * MiB;
/** The most the daemon's RSS may grow while a client does not read. */
const RSS_GROWTH_LIMIT = 64 * MiB;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Samples the daemon's RSS for a few seconds while nothing reads; returns the largest growth. */
async function growthWhileStalled(d: Daemon, baseline: number): Promise<number> {
  let max = 0;
  for (let i = 0; i < 16; i++) {
    await sleep(250);
    max = Math.max(max, (await rssBytes(d.pid!)) - baseline);
  }
  return max;
}

/**
 * Sends `request` (a whole HTTP request) on a new connection to `socketPath` and resolves with
 * the response head and whatever came after it, the socket paused right there: from then on the
 * daemon sees a client that stopped reading.
 */
async function openPaused(socketPath: string, request: string): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const socket = connect(socketPath);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(request);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, head: buf.subarray(0, i).toString(), rest: buf.subarray(i + 4) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`connection closed before the response head: ${buf.toString()}`)));
  });
}

/**
 * A hijacked request whose output the test reads only when told to: the socket is paused as
 * soon as the response head is in, so the daemon sees a client that stopped reading.
 */
class StalledHijack {
  head = '';
  private rest: Buffer = Buffer.alloc(0);
  private constructor(readonly socket: Socket) {}

  static async open(socketPath: string, method: string, path: string, body = ''): Promise<StalledHijack> {
    const headers = [`${method} /v1.50${path} HTTP/1.1`, 'Host: berth', 'Connection: Upgrade', 'Upgrade: tcp', `Content-Length: ${Buffer.byteLength(body)}`];
    if (body) headers.push('Content-Type: application/json');
    const { socket, head, rest } = await openPaused(socketPath, `${headers.join('\r\n')}\r\n\r\n${body}`);
    const h = new StalledHijack(socket);
    h.head = head;
    h.rest = rest;
    return h;
  }

  /** Reads the rest of the stream as stdcopy frames; checks every payload byte with `check`. */
  async readFrames(check: (stream: number, payload: Buffer) => void): Promise<void> {
    let pending: Buffer = this.rest;
    const take = () => {
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        check(pending[0]!, pending.subarray(8, 8 + len));
        pending = pending.subarray(8 + len);
      }
    };
    take();
    for await (const chunk of this.socket) {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      take();
    }
    assert.equal(pending.length, 0, 'the stream ends on a frame boundary');
  }
}

/** A WebSocket attach (attach/ws) that, like StalledHijack, reads nothing until told to. */
class StalledWs {
  private rest: Buffer = Buffer.alloc(0);
  closeCode: number | undefined;
  /** Set when the server closed the connection under a write of ours. */
  writeError: string | undefined;
  private constructor(readonly socket: Socket) {}

  static async open(socketPath: string, path: string): Promise<StalledWs> {
    const key = Buffer.from('berth-test-key-2').toString('base64');
    const { socket, head, rest } = await openPaused(
      socketPath,
      `GET /v1.50${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    );
    if (!/^HTTP\/1\.1 101/.test(head)) {
      socket.destroy();
      throw new Error(`no upgrade: ${head}`);
    }
    const w = new StalledWs(socket);
    w.rest = rest;
    return w;
  }

  /** One masked binary message of `length` bytes. */
  sendBinary(length: number): void {
    const head = Buffer.alloc(14);
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
    // mask 0: the payload goes out as is
    this.socket.write(head);
    this.socket.write(Buffer.alloc(length, 0x61));
  }

  /** Reads messages until the server closes, or `onMessage` (given binary payloads) says stop. */
  async readMessages(onMessage: (payload: Buffer) => boolean | void): Promise<void> {
    let pending: Buffer = this.rest;
    const take = (): boolean => {
      for (;;) {
        if (pending.length < 2) return false;
        const op = pending[0]! & 0x0f;
        let len = pending[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (pending.length < 4) return false;
          len = pending.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (pending.length < 10) return false;
          len = Number(pending.readBigUInt64BE(2));
          off = 10;
        }
        if (pending.length < off + len) return false;
        const payload = pending.subarray(off, off + len);
        pending = pending.subarray(off + len);
        if (op === 0x8) {
          this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          return true;
        }
        if ((op === 0x2 || op === 0x0) && onMessage(payload) === true) return true;
      }
    };
    if (take()) return this.finish();
    try {
      for await (const chunk of this.socket) {
        pending = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
        if (take()) return this.finish();
      }
    } catch (err) {
      // the server may close while our own write is still going: EPIPE/ECONNRESET on that write
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPIPE' && code !== 'ECONNRESET') throw err;
      this.writeError = code;
    }
  }

  private finish(): void {
    this.socket.destroy();
  }
}

/** Checks a run of `yes`-style output: `line` repeated, split anywhere. */
function repeatedLine(line: string) {
  const unit = Buffer.from(line);
  // `line` repeated past any payload length (conmon packets are 8 KiB), to compare whole slices
  const reference = Buffer.from(line.repeat(Math.ceil((256 * 1024) / unit.length) + 1));
  let total = 0;
  return {
    feed(stream: number, payload: Buffer) {
      assert.equal(stream, 1, 'stdout frames only');
      for (let off = 0; off < payload.length; ) {
        const pos = (total + off) % unit.length;
        const len = Math.min(payload.length - off, reference.length - unit.length);
        if (!payload.subarray(off, off + len).equals(reference.subarray(pos, pos + len))) {
          throw new Error(`near byte ${total + off}: output is not ${JSON.stringify(line.slice(0, 20))}... repeated`);
        }
        off += len;
      }
      total += payload.length;
    },
    get total() {
      return total;
    },
  };
}

async function assertAnswers(d: Daemon): Promise<void> {
  const ping = await d.api('GET', '/_ping', undefined, { timeoutMs: 5_000 });
  assert.equal(ping.status, 200);
}

describe('backpressure: a client that stops reading', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  test('attach: the daemon holds little of a fast container output, the client gets all of it later', async () => {
    const name = f.name('bp-attach');
    const created = await d().api('POST', `/containers/create?name=${name}`, {
      Image: 'busybox',
      Cmd: ['sh', '-c', `yes | head -c ${OUTPUT_BYTES}`],
      HostConfig: { LogConfig: { Type: 'none', Config: {} } },
    });
    assert.equal(created.status, 201, created.text);
    const baseline = await rssBytes(d().pid!);
    const a = await StalledHijack.open(d().socket, 'POST', `/containers/${name}/attach?stream=1&stdout=1&stderr=1`);
    assert.match(a.head, /^HTTP\/1\.1 101/);
    assert.equal((await d().api('POST', `/containers/${name}/start`)).status, 204);
    const growth = await growthWhileStalled(d(), baseline);
    await assertAnswers(d());
    assert.ok(growth < RSS_GROWTH_LIMIT, `daemon RSS grew by ${Math.round(growth / MiB)} MiB while the client did not read`);
    const out = repeatedLine('y\n');
    await a.readFrames((s, p) => out.feed(s, p));
    assert.equal(out.total, OUTPUT_BYTES);
    await d().waitInspect(name, (c) => c.State.Status === 'exited' && c.State.ExitCode === 0, 30_000);
  });

  test('exec: the same for an exec stream', async () => {
    const name = f.name('bp-exec');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
    const exec = await d().api('POST', `/containers/${name}/exec`, {
      Cmd: ['sh', '-c', `yes | head -c ${OUTPUT_BYTES}`],
      AttachStdout: true,
      AttachStderr: true,
    });
    assert.equal(exec.status, 201, exec.text);
    const baseline = await rssBytes(d().pid!);
    const e = await StalledHijack.open(d().socket, 'POST', `/exec/${exec.json.Id}/start`, JSON.stringify({ Detach: false, Tty: false }));
    assert.match(e.head, /^HTTP\/1\.1 101/);
    const growth = await growthWhileStalled(d(), baseline);
    await assertAnswers(d());
    assert.ok(growth < RSS_GROWTH_LIMIT, `daemon RSS grew by ${Math.round(growth / MiB)} MiB while the client did not read`);
    const out = repeatedLine('y\n');
    await e.readFrames((s, p) => out.feed(s, p));
    assert.equal(out.total, OUTPUT_BYTES);
    const inspect = await d().api('GET', `/exec/${exec.json.Id}/json`);
    assert.equal(inspect.json.ExitCode, 0);
  });

  test('attach logs=1: the log replay waits for the client', async () => {
    const name = f.name('bp-logs');
    const line = `${'0123456789abcdef'.repeat(250)}\n`; // 4001 bytes: a log of few, long lines
    const bytes = 128 * MiB - ((128 * MiB) % line.length);
    await d().dockerOk(['run', '--name', name, '--log-driver', 'json-file', 'busybox', 'sh', '-c', `yes ${line.trim()} | head -c ${bytes}`], {
      timeoutMs: 120_000,
    });
    const baseline = await rssBytes(d().pid!);
    const a = await StalledHijack.open(d().socket, 'POST', `/containers/${name}/attach?logs=1&stdout=1&stderr=1`);
    assert.match(a.head, /^HTTP\/1\.1 101/);
    const growth = await growthWhileStalled(d(), baseline);
    await assertAnswers(d());
    assert.ok(growth < RSS_GROWTH_LIMIT, `daemon RSS grew by ${Math.round(growth / MiB)} MiB while the client did not read`);
    const out = repeatedLine(line);
    await a.readFrames((s, p) => out.feed(s, p));
    assert.equal(out.total, bytes);

    // the same replay over a WebSocket
    const wsBaseline = await rssBytes(d().pid!);
    const ws = await StalledWs.open(d().socket, `/containers/${name}/attach/ws?logs=1&stdout=1&stderr=1`);
    const wsGrowth = await growthWhileStalled(d(), wsBaseline);
    await assertAnswers(d());
    assert.ok(wsGrowth < RSS_GROWTH_LIMIT, `daemon RSS grew by ${Math.round(wsGrowth / MiB)} MiB while the WebSocket client did not read`);
    const wsOut = repeatedLine(line);
    await ws.readMessages((p) => wsOut.feed(1, p));
    assert.equal(wsOut.total, bytes);
    assert.equal(ws.closeCode, 1000);
  });

  test('attach/ws: a message over 1 MiB closes the socket (1009) instead of being buffered', async () => {
    const name = f.name('bp-ws-in');
    await d().dockerOk(['run', '-d', '-i', '--name', name, '--log-driver', 'none', 'busybox', 'cat']);
    const ws = await StalledWs.open(d().socket, `/containers/${name}/attach/ws?stream=1&stdin=1&stdout=1`);
    ws.sendBinary(2 * MiB);
    // taken whole, the message would come back from cat
    let echoed = 0;
    await ws.readMessages((p) => (echoed += p.length) >= 2 * MiB);
    // the 1009 close frame, or (when it closed while the 2 MiB were still being written) a
    // connection the server dropped under the write, with nothing echoed
    if (ws.writeError === undefined) assert.equal(ws.closeCode, 1009, `no close; ${echoed} bytes echoed`);
    else assert.equal(echoed, 0, `closed under the write (${ws.writeError}) yet ${echoed} bytes echoed`);
  });

  test('attach/ws: stdin messages wait while the container does not read them', async () => {
    const name = f.name('bp-ws-stdin');
    await d().dockerOk(['run', '-d', '-i', '--name', name, '--log-driver', 'none', 'busybox', 'sleep', '1000']);
    const baseline = await rssBytes(d().pid!);
    const ws = await StalledWs.open(d().socket, `/containers/${name}/attach/ws?stream=1&stdin=1&stdout=1`);
    // 128 messages just under the cap: what the daemon does not take waits in this process
    for (let i = 0; i < 128; i++) ws.sendBinary(MiB - 1024);
    const growth = await growthWhileStalled(d(), baseline);
    await assertAnswers(d());
    assert.ok(growth < RSS_GROWTH_LIMIT, `daemon RSS grew by ${Math.round(growth / MiB)} MiB holding stdin the container did not read`);
    ws.socket.destroy();
  });

  test('docker stop ends a container whose attach client stopped reading', async () => {
    const name = f.name('bp-stop');
    await d().dockerOk(['run', '-d', '--name', name, '--log-driver', 'none', 'busybox', 'yes']);
    const a = await StalledHijack.open(d().socket, 'POST', `/containers/${name}/attach?stream=1&stdout=1&stderr=1`);
    assert.match(a.head, /^HTTP\/1\.1 101/);
    await sleep(1000); // the socket buffers between the container and the client fill
    await d().dockerOk(['stop', '-t', '1', name], { timeoutMs: 30_000 });
    const c = await f.inspect(name);
    assert.equal(c.State.Status, 'exited');
    // the stalled client's stream ends, in whole stdout frames
    await a.readFrames((s) => assert.equal(s, 1));
  });
});
