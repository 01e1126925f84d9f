// The attach replays of the log (logs=1) send one message per log message, as moby's do: a
// stdcopy frame each over POST /attach (a partial line too), a WebSocket message each over
// attach/ws, the bytes as they are with a TTY. Read with raw sockets: docker-py's attach reads
// the upgraded socket past http.client's buffer, which loses whatever came with the 101 head.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { daemonForFile, type Daemon } from './harness.js';
import { decodeFrames } from '../../src/api/stdcopy.js';

/**
 * Sends an upgrade request; resolves with the head and every byte after it, once the server
 * closes or `done` (given those bytes) says so.
 */
async function upgradeAndReadAll(socketPath: string, request: string, done: (body: Buffer) => boolean = () => false): Promise<{ head: string; body: Buffer }> {
  const socket: Socket = connect(socketPath);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(request);
  const split = () => {
    const all = Buffer.concat(chunks);
    const end = all.indexOf('\r\n\r\n');
    return end < 0 ? undefined : { head: all.subarray(0, end).toString(), body: all.subarray(end + 4) };
  };
  for await (const c of socket) {
    chunks.push(c as Buffer);
    const got = split();
    if (got && done(got.body)) break; // leaving the loop destroys the socket
  }
  const got = split();
  assert.ok(got, `no response head: ${Buffer.concat(chunks).toString().slice(0, 200)}`);
  return got;
}

const attachRequest = (name: string, query: string) =>
  `POST /v1.47/containers/${name}/attach?${query} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`;

/** The payloads of the server's WebSocket messages (unmasked, as a server sends them), up to its close. */
function wsMessages(data: Buffer): { messages: string[]; closeCode?: number } {
  const messages: string[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const op = data[at]! & 0x0f;
    let len = data[at + 1]! & 0x7f;
    let off = at + 2;
    if (len === 126) {
      len = data.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(off));
      off += 8;
    }
    const payload = data.subarray(off, off + len);
    at = off + len;
    if (op === 0x8) return { messages, closeCode: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 };
    messages.push(payload.toString());
  }
  return { messages };
}

describe('log replay framing', () => {
  const f = daemonForFile();
  const { name } = f;
  const d = (): Daemon => f.daemon();

  test('attach logs=1: one frame per message, a partial line its own, stdout and stderr apart', async () => {
    const n = name('replay');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf err2 >&2']);
    const { head, body } = await upgradeAndReadAll(d().socket, attachRequest(n, 'logs=1&stream=0&stdout=1&stderr=1'));
    assert.match(head, /^HTTP\/1\.1 101/);
    const frames = decodeFrames(body).map((fr) => [fr.stream, fr.payload.toString()] as const);
    assert.deepEqual(frames.filter(([s]) => s === 1).map(([, p]) => p), ['out1\n', 'out2\n']);
    assert.deepEqual(frames.filter(([s]) => s === 2).map(([, p]) => p), ['err1\n', 'err2']);
    assert.equal(frames.length, 4);
  });

  test('attach logs=1 with a TTY: the bytes as the terminal wrote them, no frames', async () => {
    const n = name('replaytty');
    await d().dockerOk(['run', '-t', '--name', n, 'busybox', 'sh', '-c', 'echo hello; echo world']);
    const { body } = await upgradeAndReadAll(d().socket, attachRequest(n, 'logs=1&stream=0&stdout=1&stderr=1'));
    assert.equal(body.toString(), 'hello\r\nworld\r\n');
  });

  test('attach/ws logs=1: one WebSocket message per log message', async () => {
    const n = name('replayws');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', 'echo hello; echo world; printf partial']);
    const key = Buffer.from('berth-frames-key').toString('base64');
    const { head, body } = await upgradeAndReadAll(
      d().socket,
      `GET /v1.47/containers/${n}/attach/ws?logs=1&stream=0&stdout=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
      // the server waits for the client's close frame; the test has read enough at the server's
      (bytes) => wsMessages(bytes).closeCode !== undefined,
    );
    assert.match(head, /^HTTP\/1\.1 101/);
    const { messages, closeCode } = wsMessages(body);
    assert.deepEqual(messages, ['hello\n', 'world\n', 'partial']);
    assert.equal(closeCode, 1000);
  });
});
