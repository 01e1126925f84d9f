// The client against a small stand-in daemon on a unix socket: the real HTTP exchanges
// (upgrade to a raw stream, wait before start, streamed pull) without an engine behind them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { runClient } from '../../cli/client/main.js';

class Capture {
  chunks: Buffer[] = [];
  isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface FakeDaemon {
  socket: string;
  calls: string[];
  close(): Promise<void>;
}

async function fakeDaemon(): Promise<FakeDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const socket = join(dir, 'berth.sock');
  const calls: string[] = [];
  let pulled = false;
  let attached: Duplex | undefined;
  let waitRes: ServerResponse | undefined;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v1\.50/, '');
    calls.push(`${req.method} ${path}${url.search}`);
    req.resume();
    if (req.method === 'POST' && path === '/containers/create') {
      if (!pulled) return json(res, 404, { message: 'No such image: busybox:latest' });
      return json(res, 201, { Id: 'c'.repeat(64), Warnings: [] });
    }
    if (req.method === 'POST' && path === '/images/create') {
      pulled = true;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from library/busybox","id":"latest"}\r\n');
      res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\r\n');
      return;
    }
    if (req.method === 'POST' && path.endsWith('/wait')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      waitRes = res;
      return;
    }
    if (req.method === 'POST' && path.endsWith('/start')) {
      res.writeHead(204);
      res.end();
      // The container runs: output, then exit 3.
      setTimeout(() => {
        attached!.write(Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n')]));
        attached!.end();
        waitRes!.end('{"StatusCode":3}\n');
      }, 20);
      return;
    }
    if (req.method === 'GET' && path === '/containers/nosuch/json') return json(res, 404, { message: 'No such container: nosuch' });
    if (req.method === 'GET' && path.endsWith('/json')) return json(res, 200, { Config: { Tty: false } });
    if (req.method === 'GET' && path.endsWith('/logs')) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.end(Buffer.concat([frame(1, 'log out\n'), frame(2, 'log err\n')]));
      return;
    }
    if (req.method === 'DELETE') {
      if (path === '/containers/nosuch') return json(res, 404, { message: 'No such container: nosuch' });
      res.writeHead(204);
      return res.end();
    }
    if (path === '/version') return json(res, 200, { Version: '28.2.2', ApiVersion: '1.50', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', Platform: { Name: 'berth' }, Components: [{ Name: 'Engine', Version: '28.2.2' }] });
    json(res, 404, { message: `page not found` });
  });
  server.on('upgrade', (req: IncomingMessage, sock: Duplex) => {
    calls.push(`UPGRADE ${req.url}`);
    sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    attached = sock;
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runClient(argv, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

test('run: pulls a missing image, attaches before start, exits with the container code', async () => {
  const d = await fakeDaemon();
  try {
    const r = await run(['-H', `unix://${d.socket}`, 'run', '--rm', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo hi']);
    assert.equal(r.stdout, 'hello world\n');
    assert.match(r.stderr, /^Unable to find image 'busybox:latest' locally\nUsing default tag: latest\nlatest: Pulling from library\/busybox\n.*\noops\n$/s);
    assert.equal(r.code, 3);
    const order = d.calls.map((c) => c.replace(/c{64}/, 'ID'));
    assert.deepEqual(order, [
      'POST /containers/create',
      'POST /images/create?fromImage=busybox&tag=latest',
      'POST /containers/create',
      'UPGRADE /v1.50/containers/ID/attach?stream=1&stdout=1&stderr=1',
      'POST /containers/ID/wait?condition=removed',
      'POST /containers/ID/start',
    ]);
  } finally {
    await d.close();
  }
});

test('DOCKER_HOST is honoured; daemon errors print docker style', async () => {
  const d = await fakeDaemon();
  try {
    const env = { DOCKER_HOST: `unix://${d.socket}` };
    const logs = await run(['logs', 'web'], env);
    assert.deepEqual([logs.code, logs.stdout, logs.stderr], [0, 'log out\n', 'log err\n']);
    const missing = await run(['logs', 'nosuch'], env);
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error response from daemon: No such container: nosuch\n']);
    const removed = await run(['rm', 'web', 'nosuch', 'db'], env);
    assert.deepEqual([removed.code, removed.stdout, removed.stderr], [1, 'web\ndb\n', 'Error response from daemon: No such container: nosuch\n']);
    const forced = await run(['rm', '-f', 'nosuch'], env);
    assert.equal(forced.code, 0);
    const version = await run(['version'], env);
    assert.match(version.stdout, /Server: berth\n Engine:\n  Version: +28\.2\.2\n  API version: +1\.50 \(minimum version 1\.24\)/);
  } finally {
    await d.close();
  }
});

test('usage errors and a missing daemon', async () => {
  const none = await run(['-H', 'unix:///nonexistent/berth.sock', 'ps']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Cannot connect to the berth daemon at unix:\/\/\/nonexistent\/berth.sock/);
  const runNone = await run(['-H', 'unix:///nonexistent/berth.sock', 'run', 'busybox']);
  assert.equal(runNone.code, 125);
  assert.match(runNone.stderr, /^berth: Cannot connect/);
  assert.equal((await run(['frobnicate'])).code, 1);
  const badFlag = await run(['ps', '--bogus']);
  assert.deepEqual([badFlag.code, badFlag.stderr], [125, "unknown flag: --bogus\nSee 'berth ps --help'.\n"]);
  const help = await run(['run', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: {2}berth run/);
  assert.equal((await run(['--help'])).code, 0);
  assert.equal((await run(['rm'])).code, 1);
});
