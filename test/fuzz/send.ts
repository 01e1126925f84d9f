// Sends one FuzzRequest over the daemon's unix socket and says what came back: the status (101
// for an upgrade), the start of the body, or that no answer came (timeout, connection reset).
// Streams are read for at most a moment: what counts is the status and that the daemon lives.
import { request } from 'node:http';
import type { BodySpec, FuzzRequest } from './generators.js';
import type { Targets } from './targets.js';

export interface Outcome {
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** 'timeout' (no headers in time), 'reset' (closed unanswered) or 'client' (Node refused to send it). */
  noAnswer?: 'timeout' | 'reset' | 'client';
  /** The start of the body (errors carry their message). */
  text: string;
  ms: number;
}

function hugeBody(kind: string, size: number): string {
  switch (kind) {
    case 'string':
      return JSON.stringify({ Image: 'busybox', Cmd: ['x'.repeat(size)], Name: 'y'.repeat(size) });
    case 'array':
      return `{"Image":"busybox","Env":[${'"A=b",'.repeat(size)}"A=b"],"Cmd":[${'0,'.repeat(size)}0]}`;
    case 'nest-array':
      return `${'['.repeat(size)}${']'.repeat(size)}`;
    default:
      return `${'{"a":'.repeat(size)}1${'}'.repeat(size)}`;
  }
}

export function materialize(body: BodySpec, targets: Targets): { payload: Buffer; contentType: string } {
  if ('fixture' in body) return { payload: targets.fixture(body.fixture), contentType: 'application/x-tar' };
  if ('huge' in body) return { payload: Buffer.from(hugeBody(body.huge, body.size)), contentType: 'application/json' };
  const text = 'text' in body ? body.text : (JSON.stringify(body.json) ?? 'null');
  return { payload: Buffer.from(targets.resolve(text)), contentType: 'application/json' };
}

export function send(socketPath: string, req: FuzzRequest, targets: Targets, timeoutMs = 15_000): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<Outcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...o, ms: Date.now() - t0 });
    };
    const headers: Record<string, string> = { ...req.headers };
    let payload: Buffer | undefined;
    if (req.body) {
      const m = materialize(req.body, targets);
      payload = m.payload;
      if (req.contentType !== null) headers['Content-Type'] = req.contentType ?? m.contentType;
      headers['Content-Length'] = String(payload.length);
    }
    let r;
    try {
      r = request({ socketPath, method: req.method, path: targets.resolve(req.path), headers, agent: false });
    } catch (err) {
      done({ status: 0, noAnswer: 'client', text: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      r.destroy();
      done({ status: 0, noAnswer: 'timeout', text: '' });
    }, timeoutMs);
    r.on('response', (res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      let size = 0;
      // a stream (events, logs -f, stats, wait) is cut after a moment or a MiB
      const cut = setTimeout(() => res.destroy(), 2000);
      const finish = () => {
        clearTimeout(cut);
        done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8', 0, Math.min(size, 16_384)) });
      };
      res.on('data', (c: Buffer) => {
        if (size < 16_384) chunks.push(c);
        size += c.length;
        if (size > 1 << 20) res.destroy();
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    r.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      // a hijacked client that leaves at once: stdin closed, then the connection
      socket.on('error', () => undefined);
      socket.end();
      setTimeout(() => socket.destroy(), 500);
      done({ status: res.statusCode ?? 101, text: '' });
    });
    r.on('error', (err) => {
      clearTimeout(timer);
      done({ status: 0, noAnswer: 'reset', text: err.message });
    });
    r.end(payload);
  });
}
