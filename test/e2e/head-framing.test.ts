// HEAD requests the daemon answers off its usual path (issue 11): with `Upgrade` headers (Node
// hands them to the hijack code, which answered a JSON 404 body after the HEAD's headers) and
// with a 100 KB URL (Node's parser gives up: Fastify's answer put a body after the HEAD's
// headers, said nothing of closing, and reset the connection). Each answer must parse as HTTP
// says a HEAD answer parses (headers only), and the connection must then either answer the next
// request or say `Connection: close` and close; a new connection is answered as usual.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request as httpRequest, Agent } from 'node:http';
import { startDaemon, type Daemon } from './harness.js';

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Reads answers off `raw` as a client that sent `methods` in that order would: a HEAD answer
 * (or a 1xx/204/304) has no body, others Content-Length bytes. What is left must be nothing.
 */
function parseAnswers(raw: string, methods: string[]): { answers: Parsed[]; rest: string } {
  const answers: Parsed[] = [];
  let rest = raw;
  for (const method of methods) {
    if (rest === '') break;
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `no complete header block in ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine!);
    assert.ok(m, `not a status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    rest = rest.slice(end + 4);
    const status = Number(m[1]);
    let body = '';
    if (method !== 'HEAD' && status !== 204 && status !== 304) {
      assert.ok(headers['content-length'] !== undefined, `answer to ${method} without Content-Length: ${JSON.stringify(headers)}`);
      const n = Number(headers['content-length']);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    }
    answers.push({ status, headers, body });
  }
  return { answers, rest };
}

/** Sends `text` on a new connection and reads until the daemon closes it or `waitMs` passes. */
async function exchange(socketPath: string, text: string, waitMs = 3000): Promise<{ raw: string; closed: boolean }> {
  const s = connect(socketPath);
  const got: Buffer[] = [];
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.on('data', (c: Buffer) => got.push(c));
  s.on('error', () => undefined);
  s.on('close', () => (closed = true));
  s.write(text);
  const deadline = Date.now() + waitMs;
  while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  s.destroy();
  return { raw: Buffer.concat(got).toString('latin1'), closed };
}

const PING = 'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n';

describe('HEAD answers off the usual path', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });

  /** The first answer is a bodiless HEAD answer; then either the ping's answer, or a close announced. */
  const checkHeadThenPing = async (name: string, head: string, wantStatus: number) => {
    const { raw, closed } = await exchange(d.socket, head + PING);
    const { answers, rest } = parseAnswers(raw, ['HEAD', 'GET']);
    assert.equal(rest, '', `${name}: bytes after the answers: ${JSON.stringify(rest.slice(0, 200))}`);
    assert.equal(answers[0]?.status, wantStatus, `${name}: ${JSON.stringify(raw.slice(0, 300))}`);
    if (answers.length === 1) {
      assert.equal(answers[0]!.headers.connection?.toLowerCase(), 'close', `${name}: the ping went unanswered on a connection not said to close`);
      assert.ok(closed, `${name}: said close, stayed open`);
    } else {
      assert.equal(answers[1]!.status, 200);
      assert.equal(answers[1]!.body, 'OK');
    }
    // and the daemon answers a new connection as ever
    const again = parseAnswers((await exchange(d.socket, PING, 500)).raw, ['GET']);
    assert.equal(again.answers[0]?.body, 'OK', name);
  };

  test('HEAD with Upgrade: tcp is answered as the ordinary request, without a body', async () => {
    const up = 'Connection: Upgrade\r\nUpgrade: tcp\r\n';
    await checkHeadThenPing('HEAD /_ping + Upgrade', `HEAD /_ping HTTP/1.1\r\nHost: x\r\n${up}\r\n`, 200);
    await checkHeadThenPing('HEAD attach + Upgrade', `HEAD /containers/nosuch/attach?stream=1 HTTP/1.1\r\nHost: x\r\n${up}\r\n`, 404);
    await checkHeadThenPing('HEAD exec start + Upgrade', `HEAD /exec/nosuch/start HTTP/1.1\r\nHost: x\r\n${up}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, 404);
    await checkHeadThenPing('HEAD container json + Upgrade', `HEAD /v1.45/containers/nosuch/json HTTP/1.1\r\nHost: x\r\n${up}\r\n`, 404);
  });

  test('HEAD with Upgrade: websocket is not a handshake and gets an ordinary answer', async () => {
    const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    await checkHeadThenPing('HEAD attach/ws + websocket', `HEAD /containers/nosuch/attach/ws HTTP/1.1\r\nHost: x\r\n${ws}\r\n`, 404);
  });

  test('GET with Upgrade: tcp on an ordinary route gets its ordinary answer', async () => {
    const { raw } = await exchange(d.socket, 'GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    const { answers, rest } = parseAnswers(raw, ['GET']);
    assert.equal(answers[0]?.status, 200, raw);
    assert.equal(answers[0]?.body, 'OK');
    assert.equal(rest, '');
  });

  test('HEAD and GET with a 100 KB URL: a framed 431 and a close, then new connections work', async () => {
    const url = `/_ping?${'a'.repeat(100_000)}`;
    await checkHeadThenPing('HEAD 100 KB URL', `HEAD ${url} HTTP/1.1\r\nHost: x\r\n\r\n`, 431);
    const { raw } = await exchange(d.socket, `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const { answers, rest } = parseAnswers(raw, ['GET']);
    assert.equal(answers[0]?.status, 431, raw.slice(0, 300));
    assert.equal(answers[0]?.headers.connection?.toLowerCase(), 'close');
    assert.match(answers[0]!.body, /"message":/);
    assert.equal(rest, '');
  });

  test('a client leaving the streamed answer to a request with Upgrade releases the container', { timeout: 120_000 }, async () => {
    await d.ensureBusybox();
    const c = await d.api('POST', '/containers/create?name=head-framing-export', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(c.status, 201, c.text);
    const s = connect(d.socket);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.on('error', () => undefined);
    const first = new Promise<Buffer>((resolve) => s.once('data', resolve));
    s.write('GET /containers/head-framing-export/export HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    assert.match((await first).toString('latin1'), /^HTTP\/1\.1 200 /);
    s.destroy();
    // export streams under the container's lock: a verb that needs it must be answered
    const paused = await d.api('POST', '/containers/head-framing-export/pause', undefined, { timeoutMs: 60_000 });
    assert.equal(paused.status, 409, paused.text);
    assert.equal((await d.api('DELETE', '/containers/head-framing-export?force=1', undefined, { timeoutMs: 60_000 })).status, 204);
  });

  test("Node's keep-alive client: HEAD with a 100 KB URL, then a ping on the same agent", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ socketPath: d.socket, method, path, agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal((await call('HEAD', `/_ping?${'a'.repeat(100_000)}`)).status, 431);
      const ping = await call('GET', '/_ping');
      assert.deepEqual(ping, { status: 200, body: 'OK' });
    } finally {
      agent.destroy();
    }
  });
});
