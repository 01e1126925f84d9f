// HTTP abuse below the request level, over the unix socket with node:net: truncated requests,
// 1 MiB headers, clients that stop reading a stream, slow senders, half-closed hijacks,
// pipelined garbage, smuggling-shaped framing. Each scenario says what it saw and, when the
// daemon did something wrong (no answer to a ping while it runs, state left behind, a wrong
// answer), a problem.
import { connect, type Socket } from 'node:net';
import type { Daemon } from '../e2e/harness.js';

export interface AbuseResult {
  name: string;
  detail: string;
  problem?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Write `chunks` (with a pause between them), optionally half-close, and collect what comes back for `waitMs`. */
async function exchange(socketPath: string, chunks: (string | Buffer)[], opts: { gapMs?: number; end?: boolean; waitMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  const s = await open(socketPath);
  const got: Buffer[] = [];
  let closed = false;
  s.on('data', (c: Buffer) => got.push(c));
  s.on('error', () => undefined);
  s.on('close', () => (closed = true));
  for (const c of chunks) {
    if (closed) break;
    s.write(c);
    if (opts.gapMs) await sleep(opts.gapMs);
  }
  if (opts.end) s.end();
  const deadline = Date.now() + (opts.waitMs ?? 1500);
  while (!closed && Date.now() < deadline) await sleep(20);
  s.destroy();
  return { text: Buffer.concat(got).toString('latin1'), closed };
}

const statusOf = (text: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

/** /_ping answers while `during` runs (a stuck client must not stall anyone else). */
async function pingsDuring(d: Daemon, during: Promise<unknown>): Promise<string | undefined> {
  let problem: string | undefined;
  let running = true;
  void during.finally(() => (running = false));
  let pings = 0;
  while (running || pings === 0) {
    const t0 = Date.now();
    try {
      const r = await d.api('GET', '/_ping', undefined, { timeoutMs: 10_000 });
      if (r.status !== 200) problem = `ping answered ${r.status}`;
    } catch (err) {
      problem = `ping failed after ${Date.now() - t0} ms: ${(err as Error).message}`;
    }
    pings++;
    await sleep(200);
  }
  await during;
  return problem;
}

/** A client that asks for a stream and stops reading it for `holdMs`, then vanishes. */
async function stopReading(d: Daemon, name: string, path: string, holdMs: number): Promise<AbuseResult> {
  const s = await open(d.socket);
  s.on('error', () => undefined);
  s.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\n\r\n`);
  await sleep(300);
  s.pause();
  const problem = await pingsDuring(d, sleep(holdMs));
  const buffered = s.readableLength;
  s.destroy();
  return { name, detail: `held ${holdMs} ms unread (${buffered} bytes in the client's buffer)`, problem };
}

export async function runAbuse(d: Daemon, opts: { holdMs?: number } = {}): Promise<AbuseResult[]> {
  const sock = d.socket;
  const hold = opts.holdMs ?? 3000;
  const out: AbuseResult[] = [];
  const add = (r: AbuseResult) => out.push(r);

  // truncated request line and headers, then the client half-closes
  for (const bytes of ['GET /_pi', 'GET /_ping HTTP/1.1\r\nHost: x\r\nX-A: ', 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nContent-Type: application/json\r\n\r\n{"Image":"busy']) {
    const r = await exchange(sock, [bytes], { end: true, waitMs: 3000 });
    add({ name: `truncated ${JSON.stringify(bytes.slice(0, 30))}`, detail: `answer ${statusOf(r.text) || 'none'}, closed ${r.closed}`, problem: r.closed ? undefined : 'connection left open after the client half-closed a truncated request' });
  }
  // a truncated create body must not leave a container behind
  await exchange(sock, ['POST /containers/create?name=fz-trunc HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\nContent-Type: application/json\r\n\r\n{"Image":"busybox","Cmd":["true"]}'], { end: true, waitMs: 2000 });
  const trunc = await d.api('GET', '/containers/fz-trunc/json');
  add({ name: 'truncated create body', detail: `container ${trunc.status === 404 ? 'absent' : 'present'}`, problem: trunc.status === 404 ? undefined : 'a create whose body never arrived made a container' });

  // 1 MiB header, and 20,000 small headers
  const big = await exchange(sock, [`GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1 << 20)}\r\n\r\n`], { waitMs: 3000 });
  add({ name: '1 MiB header', detail: `answer ${statusOf(big.text) || 'none'}`, problem: [431, 400, 0].includes(statusOf(big.text)) ? undefined : `answered ${statusOf(big.text)}` });
  const many = await exchange(sock, [`GET /_ping HTTP/1.1\r\nHost: x\r\n${'X-H: v\r\n'.repeat(20_000)}\r\n`], { waitMs: 3000 });
  add({ name: '20,000 headers', detail: `answer ${statusOf(many.text) || 'none'}`, problem: statusOf(many.text) === 200 || statusOf(many.text) === 431 || statusOf(many.text) === 400 ? undefined : `answered ${statusOf(many.text)}` });

  // pipelined: a good request then garbage; the good one is answered, the garbage refused
  const piped = await exchange(sock, ['GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\x00\x01\x02 /x HTTP/9.9\r\n\r\nGET /_ping HTTP/1.1\r\n\r\n'], { waitMs: 2000 });
  const ps = statuses(piped.text);
  add({ name: 'pipelined garbage', detail: `answers ${ps.join(',')}`, problem: ps[0] === 200 ? undefined : 'the good request before the garbage was not answered' });
  for (const [name, bytes] of [
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['binary junk', Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])],
    ['bad chunk size', 'POST /containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['Content-Length and chunked', 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n'],
    ['two Content-Lengths', 'POST /volumes/create HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 20\r\nContent-Type: application/json\r\n\r\n{}'],
    ['negative Content-Length', 'POST /volumes/create HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}'],
    ['bare LF line ends', 'GET /_ping HTTP/1.1\nHost: x\n\n'],
  ] as const) {
    const r = await exchange(sock, [bytes], { waitMs: 2000 });
    const st = statusOf(r.text);
    add({ name, detail: `answer ${st || 'none'}, closed ${r.closed}`, problem: st >= 500 ? `answered ${st}` : undefined });
  }

  // slow sender: a create body a byte at a time, then a slowloris header while others are served
  const slowBody = JSON.stringify({ Image: 'busybox', Cmd: ['true'] });
  const slow = await exchange(sock, [`POST /containers/create?name=fz-slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${slowBody.length}\r\n\r\n`, ...slowBody.split('')], { gapMs: 20, waitMs: 5000 });
  add({ name: 'slow body sender', detail: `answer ${statusOf(slow.text) || 'none'}`, problem: statusOf(slow.text) === 201 ? undefined : `a slowly sent create was answered ${statusOf(slow.text)}` });
  await d.api('DELETE', '/containers/fz-slow?force=1');
  const loris = exchange(sock, ['GET /_ping HTTP/1.1\r\n', ...'X-Slow: aaaaaaaaaaaaaaa\r\n'.split('')], { gapMs: 100, waitMs: 500 });
  add({ name: 'slowloris header', detail: 'headers a byte per 100 ms while others ping', problem: await pingsDuring(d, loris) });

  // 200 idle connections opened and dropped
  const idle = await Promise.all(Array.from({ length: 200 }, () => open(sock).catch(() => undefined)));
  const idleProblem = await pingsDuring(d, sleep(500));
  for (const s of idle) s?.destroy();
  add({ name: '200 idle connections', detail: `${idle.filter(Boolean).length} opened`, problem: idleProblem });

  // clients that stop reading a stream
  add(await stopReading(d, 'logs -f not read', '/containers/fz-chatty/logs?follow=1&stdout=1&stderr=1', hold));
  add(await stopReading(d, 'export not read', '/containers/fz-running/export', hold));
  add(await stopReading(d, 'save not read', '/images/get?names=busybox', hold));
  add(await stopReading(d, 'events not read', '/events', hold));
  add(await stopReading(d, 'stats stream not read', '/containers/fz-chatty/stats', hold));
  add(await stopReading(d, 'attach not read', '/containers/fz-chatty/attach?stream=1&stdout=1&logs=1', hold));

  // half-closed hijacks: attach's stdin ends, the container goes on; exec's `cat` sees EOF and
  // its output still arrives before the daemon closes
  const att = await exchange(sock, ['POST /containers/fz-running/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n'], { end: true, waitMs: 1500 });
  const still = await d.api('GET', '/containers/fz-running/json');
  add({ name: 'attach half-closed', detail: `answer ${statusOf(att.text) || 'none'}, running ${still.json?.State?.Running}`, problem: statusOf(att.text) === 101 && still.json?.State?.Running ? undefined : 'attach then half-close: no 101 or the container stopped' });
  const ex = await d.api('POST', '/containers/fz-running/exec', { Cmd: ['cat'], AttachStdin: true, AttachStdout: true });
  if (ex.status === 201) {
    const body = JSON.stringify({ Detach: false, Tty: false });
    const r = await exchange(sock, [`POST /exec/${ex.json.Id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'fuzz-echo\n'], { gapMs: 300, end: true, waitMs: 10_000 });
    add({ name: 'exec half-closed', detail: `answer ${statusOf(r.text) || 'none'}, echoed ${r.text.includes('fuzz-echo')}, closed ${r.closed}`, problem: r.text.includes('fuzz-echo') && r.closed ? undefined : 'exec cat after a half-close: output lost or connection left open' });
  } else add({ name: 'exec half-closed', detail: `exec create ${ex.status}`, problem: `exec create answered ${ex.status}: ${ex.text}` });
  // a hijack that vanishes without a half-close while the exec runs
  const ex2 = await d.api('POST', '/containers/fz-running/exec', { Cmd: ['sleep', '2'], AttachStdout: true });
  if (ex2.status === 201) {
    await exchange(sock, [`POST /exec/${ex2.json.Id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`], { waitMs: 200 });
    add({ name: 'exec client vanished', detail: 'connection destroyed mid-exec', problem: await pingsDuring(d, sleep(500)) });
  }
  return out;
}
