import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.js';
import { InvalidParameterError, NotFoundError } from '../../src/errors.js';
import { detachKeys, type HijackRequest } from '../../src/api/hijack.js';
import { createApiServer, listen } from '../../src/api/server.js';

let app: FastifyInstance;
let dir: string;
let socketPath: string;
const seen: HijackRequest[] = [];
let serverSawStdinEnd = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-hijack-'));
  socketPath = join(dir, 'api.sock');
  const created = createApiServer({ engine: {} as Engine, logger: pino({ level: 'silent' }) });
  app = created.app;
  created.ctx.hijack.register('POST', '/things/:id/attach', async (req, upgrade) => {
    if (req.params.id === 'missing') throw new NotFoundError('No such container: missing');
    if (req.query.detach === '1') return;
    const conn = upgrade('application/vnd.docker.raw-stream');
    seen.push(req);
    conn.write(`hello ${req.params.id} body=${req.body?.toString() ?? '-'}\n`);
    if (req.query.fail === '1') throw new InvalidParameterError('failed after upgrade');
    // Echo stdin until the client half-closes, then keep talking: EOF on stdin is not a disconnect.
    conn.on('data', (chunk: Buffer) => conn.write(chunk));
    await new Promise<void>((resolve) => conn.once('end', resolve));
    serverSawStdinEnd++;
    await sleep(20);
    conn.write('bye\n');
  });
  await app.ready();
  await listen(app, socketPath);
});

after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface RawResponse {
  head: string;
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Sends `parts` (with pauses between them), half-closes, and reads until the server closes. */
async function exchange(parts: Array<string | Buffer>, opts: { halfClose?: boolean; pause?: number } = {}): Promise<RawResponse> {
  const sock = connect({ path: socketPath, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    sock.once('end', resolve);
    sock.once('error', reject);
  });
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  for (const [i, part] of parts.entries()) {
    if (i > 0 && opts.pause) await sleep(opts.pause);
    sock.write(part);
  }
  if (opts.halfClose !== false) sock.end();
  await ended;
  sock.destroy();
  const all = Buffer.concat(chunks);
  const split = all.indexOf('\r\n\r\n');
  assert.ok(split > 0, `no header end in ${JSON.stringify(all.toString())}`);
  const head = all.subarray(0, split).toString('latin1');
  const lines = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { head, status: Number(lines[0]!.split(' ')[1]), headers, body: all.subarray(split + 4) };
}

function upgradeRequest(path: string, extraHeaders: string[] = []): string {
  return [`POST ${path} HTTP/1.1`, 'Host: api.moby.localhost', 'Connection: Upgrade', 'Upgrade: tcp', ...extraHeaders, '', ''].join('\r\n');
}

function assertApiHeaders(res: RawResponse): void {
  assert.equal(res.headers.get('api-version'), '1.50');
  assert.equal(res.headers.get('server'), 'Docker/28.2.2 (linux)');
  assert.equal(res.headers.get('ostype'), 'linux');
  assert.equal(res.headers.get('docker-experimental'), 'false');
}

test('Upgrade: 101 with headers, the Content-Length body to the handler, following bytes as stdin, half-close kept', async () => {
  const body = '{"Detach":false,"Tty":false}';
  const before = serverSawStdinEnd;
  const res = await exchange([
    upgradeRequest('/v1.50/things/t1/attach?stdin=1&stdout=1', ['Content-Type: application/json', `Content-Length: ${body.length}`]) +
      body +
      'stdin-bytes',
  ]);
  assert.match(res.head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.equal(res.headers.get('content-type'), 'application/vnd.docker.raw-stream');
  assert.equal(res.headers.get('connection'), 'Upgrade');
  assert.equal(res.headers.get('upgrade'), 'tcp');
  assert.equal(res.headers.has('content-length'), false);
  assert.equal(res.headers.has('transfer-encoding'), false);
  assertApiHeaders(res);
  assert.equal(res.body.toString(), `hello t1 body=${body}\nstdin-bytesbye\n`);
  assert.equal(serverSawStdinEnd, before + 1);
  const req = seen.at(-1)!;
  assert.equal(req.apiVersion, '1.50');
  assert.deepEqual(req.params, { id: 't1' });
  assert.equal(req.query.stdin, '1');
});

test('Upgrade: body and stdin arriving in separate packets, chunked body, old API version', async () => {
  const res = await exchange(
    [upgradeRequest('/v1.41/things/t2/attach', ['Transfer-Encoding: chunked']), '5\r\nab', 'cde\r\n0\r\n\r\nxy', 'z'],
    { pause: 20 },
  );
  assert.equal(res.status, 101);
  assert.equal(res.body.toString(), 'hello t2 body=abcde\nxyzbye\n');
  assert.equal(seen.at(-1)!.apiVersion, '1.41');
});

test('Upgrade without a body: stdin is everything after the headers', async () => {
  const res = await exchange([upgradeRequest('/things/t3/attach', ['Content-Type: text/plain']), 'typed'], { pause: 20 });
  assert.equal(res.status, 101);
  assert.equal(res.body.toString(), 'hello t3 body=-\ntypedbye\n');
  assert.equal(seen.at(-1)!.body, undefined);
});

test('Upgrade: a typed error before upgrading is an ordinary JSON error response', async () => {
  const res = await exchange([upgradeRequest('/v1.50/things/missing/attach')]);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assertApiHeaders(res);
  assert.deepEqual(JSON.parse(res.body.toString()), { message: 'No such container: missing' });
});

test('Upgrade: errors after upgrading are written as text; unknown paths and bad versions get JSON errors', async () => {
  let res = await exchange([upgradeRequest('/things/t4/attach?fail=1')]);
  assert.equal(res.status, 101);
  assert.equal(res.body.toString(), 'hello t4 body=-\nfailed after upgrade\r\n');

  res = await exchange([upgradeRequest('/v1.50/nothing/here')]);
  assert.equal(res.status, 404);
  assert.deepEqual(JSON.parse(res.body.toString()), { message: 'page not found' });

  res = await exchange([upgradeRequest('/v1.51/things/t5/attach')]);
  assert.equal(res.status, 400);
  assert.match(JSON.parse(res.body.toString()).message, /^client version 1\.51 is too new/);
});

test('Upgrade: a handler that does not upgrade answers 200 with an empty body', async () => {
  const res = await exchange([upgradeRequest('/things/t6/attach?detach=1')]);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '0');
  assert.equal(res.body.length, 0);
});

test('without Upgrade: 200 OK on the raw socket, stdin from the chunked request body', async () => {
  const head = ['POST /v1.50/things/t7/attach?stdin=1 HTTP/1.1', 'Host: x', 'Content-Type: text/plain', 'Transfer-Encoding: chunked', '', ''].join('\r\n');
  const res = await exchange([head, '3\r\nabc\r\n', '2\r\nde\r\n0\r\n\r\n'], { pause: 20, halfClose: false });
  assert.equal(res.status, 200);
  assert.match(res.head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(res.headers.get('content-type'), 'application/vnd.docker.raw-stream');
  assert.equal(res.headers.get('connection'), 'close');
  assertApiHeaders(res);
  assert.equal(res.body.toString(), 'hello t7 body=-\nabcdebye\n');
});

test('without Upgrade: a JSON body is delivered whole and stdin is empty', async () => {
  const body = '{"Detach":false,"Tty":true}';
  const head = ['POST /things/t8/attach HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${body.length}`, '', ''].join('\r\n');
  const res = await exchange([head + body], { halfClose: false });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), `hello t8 body=${body}\nbye\n`);
});

test('without Upgrade: typed errors are ordinary JSON responses', async () => {
  const head = ['POST /things/missing/attach HTTP/1.1', 'Host: x', 'Connection: close', '', ''].join('\r\n');
  const res = await exchange([head], { halfClose: false });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(res.body.toString()), { message: 'No such container: missing' });
});

test("detachKeys follows moby's term.ToBytes", () => {
  assert.deepEqual(detachKeys(undefined), [0x10, 0x11]);
  assert.deepEqual(detachKeys(''), [0x10, 0x11]);
  assert.deepEqual(detachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  assert.deepEqual(detachKeys('ctrl-a,x'), [1, 0x78]);
  assert.deepEqual(detachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,DEL'), [0, 27, 28, 29, 30, 31, 127]);
  assert.throws(() => detachKeys('ctrl-P'), { message: 'Invalid detach keys (ctrl-P) provided' });
  assert.throws(() => detachKeys('ab'), InvalidParameterError);
});
