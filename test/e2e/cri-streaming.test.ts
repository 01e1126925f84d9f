// CRI streaming (issue 12 item 5): Exec, Attach and PortForward URLs served over SPDY/3.1 with
// the v4.channel.k8s.io and portforward.k8s.io protocols, driven by our own client framer
// (test/fixtures/spdy-client.ts) against real containers in a real pod: separate stdout/stderr
// and the exit code on the error stream, a TTY with resize, attach ended by stdin's close,
// port-forward to a localhost-only listener inside the pod's netns and on a host-network pod,
// single-use tokens, and a client vanishing mid-stream leaving no exec process and no socat.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { sleep, startCriPodDaemon, type CriPodDaemon } from '../fixtures/cri-pod-daemon.js';
import { exitCodeOf, finishCommand, openCommand, readAll, spdyConnect, spdyExec, spdyUpgrade } from '../fixtures/spdy-client.js';

const run = promisify(execFile);

/** Host processes whose command line contains `needle` (pgrep -f), other than pgrep itself. */
async function hostProcesses(needle: string): Promise<string[]> {
  const r = await run('pgrep', ['-a', '-f', needle]).catch(() => ({ stdout: '' }));
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
}

async function waitGone(needle: string): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = await hostProcesses(needle);
    if (left.length === 0) return [];
    await sleep(100);
  }
  return left;
}

/** Reads a stream until `pred` holds for what arrived; resolves with it. */
function readUntil(s: NodeJS.ReadableStream, pred: (text: string) => boolean): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      text += c.toString();
      if (pred(text)) {
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
    s.once('end', () => (pred(text) ? resolve(text) : reject(new Error(`stream ended with ${JSON.stringify(text)}`))));
  });
}

describe('CRI streaming (SPDY)', () => {
  let t: CriPodDaemon;
  let pod: string;
  let ctr: string;

  before(async () => {
    t = await startCriPodDaemon();
    pod = await t.runPod('stream');
    ctr = await t.container(pod, { metadata: { name: 'main' }, command: ['sleep', '100000'] });
  });

  after(async () => {
    await t?.close();
  });

  const execUrl = async (req: Record<string, unknown>) => (await t.c.runtime.exec({ containerId: ctr, ...req })).url as string;

  test('Exec without a TTY: stdout and stderr apart, Success or the exit code on the error stream', async () => {
    const url = await execUrl({ cmd: ['sh', '-c', 'echo -n out; echo -n err >&2; exit 7'], stdout: true, stderr: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
    const r = await spdyExec(url, { stdout: true, stderr: true });
    assert.equal(r.stdout, 'out');
    assert.equal(r.stderr, 'err');
    assert.equal(r.status?.status, 'Failure');
    assert.equal(r.status?.reason, 'NonZeroExitCode');
    assert.equal(exitCodeOf(r.status), 7);

    const ok = await spdyExec(await execUrl({ cmd: ['echo', '-n', 'hello'], stdout: true, stderr: true }), { stdout: true, stderr: true });
    assert.deepEqual({ stdout: ok.stdout, stderr: ok.stderr, status: ok.status }, { stdout: 'hello', stderr: '', status: { metadata: {}, status: 'Success' } });

    // stdin without a TTY: the client's FIN closes the process' stdin
    const cat = await spdyExec(await execUrl({ cmd: ['cat'], stdin: true, stdout: true }), { stdout: true, input: 'piped through' });
    assert.equal(cat.stdout, 'piped through');
    assert.equal(exitCodeOf(cat.status), 0);

    // 1 MiB out: more than one SPDY window, to a client that never sends WINDOW_UPDATE... ours does; still whole
    const big = await spdyExec(await execUrl({ cmd: ['sh', '-c', 'head -c 1048576 /dev/zero | tr "\\0" a'], stdout: true }), { stdout: true });
    assert.equal(big.stdout.length, 1048576);
  });

  test('Exec with a TTY and stdin: the first size is there at start, later resizes reach it, the session ends when the process exits', async () => {
    // client-go sends the size right after opening its streams; the command reads it at once
    const first = await spdyExec(await execUrl({ cmd: ['stty', 'size'], tty: true, stdin: true, stdout: true }), { tty: true, stdin: true, stdout: true, size: { width: 111, height: 33 } });
    assert.equal(first.stdout.trim(), '33 111');
    assert.equal(exitCodeOf(first.status), 0);

    const url = await execUrl({ cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const s = await openCommand(url, { tty: true, stdin: true, stdout: true });
    assert.ok(s.resize && s.stdin && s.stdout && !s.stderr);
    s.resize.write('{"Width":80,"Height":24}\n');
    let seen = '';
    s.stdout.on('data', (c: Buffer) => (seen += c.toString()));
    s.resize.write('{"Width":123,"Height":45}\n');
    // a later resize goes through conmon's ctl FIFO: ask until the shell sees it
    for (let i = 0; i < 50 && !/45 123/.test(seen); i++) {
      s.stdin.write('stty size\n');
      await sleep(100);
    }
    assert.match(seen, /45 123/);
    s.stdin.write('echo hel""lo; exit 3\n');
    const errorText = (await readAll(s.error)).toString();
    assert.match(seen, /hello/);
    assert.equal(exitCodeOf(JSON.parse(errorText)), 3);
    s.session.destroy();
  });

  test("a TTY exec's stdin is not scanned for Docker's detach keys: ctrl-p ctrl-q reach the process", async () => {
    const url = await execUrl({ cmd: ['sh', '-c', 'stty raw -echo; echo ready; head -c 3 | od -An -tx1'], tty: true, stdin: true, stdout: true });
    const s = await openCommand(url, { tty: true, stdin: true, stdout: true });
    s.resize!.write('{"Width":80,"Height":24}\n');
    // in raw mode the terminal itself takes no ctrl-q (ixon off): send once the command says so
    await readUntil(s.stdout!, (x) => x.includes('ready'));
    s.stdin!.write(Buffer.from([0x10, 0x11, 0x61]));
    const r = await finishCommand(s);
    assert.match(r.stdout, /10 11 61/);
    assert.equal(exitCodeOf(r.status), 0);
    s.session.destroy();
  });

  test('Attach: stdin reaches the container, and closing it (stdin_once) ends the session and the container', async () => {
    const id = await t.container(pod, { metadata: { name: 'attached' }, command: ['sh'], stdin: true, stdinOnce: true });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const { url } = await t.c.runtime.attach({ containerId: id, stdin: true, stdout: true, stderr: true });
    assert.match(url, /\/attach\//);
    const s = await openCommand(url, { stdin: true, stdout: true, stderr: true });
    const got = readUntil(s.stdout!, (x) => x.includes('hello'));
    s.stdin!.write('echo -n hello\n');
    assert.equal(await got, 'hello');
    s.stdin!.end();
    const r = await finishCommand(s);
    assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
    await t.waitState(id, 'CONTAINER_EXITED');
    s.session.destroy();
  });

  test('PortForward reaches a localhost-only listener inside the pod network namespace; a closed port is reported', async () => {
    await t.container(pod, {
      metadata: { name: 'web' },
      command: ['sh', '-c', 'mkdir -p /www && echo -n pf-ok > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'],
    });
    const { url } = await t.c.runtime.portForward({ podSandboxId: pod, port: [8080] });
    assert.match(url, /\/portforward\//);
    const pf = await spdyConnect(url, ['portforward.k8s.io']);
    assert.equal(pf.protocol, 'portforward.k8s.io');
    let body = '';
    for (let i = 0; i < 50 && !body.includes('pf-ok'); i++) {
      const conn = await pf.forward(8080);
      conn.data.end('GET /index.html HTTP/1.0\r\n\r\n');
      body = (await readAll(conn.data)).toString();
      await conn.error;
      if (!body.includes('pf-ok')) await sleep(100); // httpd still starting
    }
    assert.match(body, /^HTTP\/1\.[01] 200/);
    assert.match(body, /pf-ok$/);
    // two connections at once on one session
    const [a, b] = await Promise.all([pf.forward(8080), pf.forward(8080)]);
    a.data.end('GET / HTTP/1.0\r\n\r\n');
    b.data.end('GET / HTTP/1.0\r\n\r\n');
    assert.match((await readAll(a.data)).toString(), /pf-ok/);
    assert.match((await readAll(b.data)).toString(), /pf-ok/);
    const closed = await pf.forward(8081);
    assert.match(await closed.error, /Connection refused/);
    pf.session.destroy();
  });

  test('PortForward on a host-network pod dials the host loopback', async () => {
    const srv = createServer((sock) => sock.end('host-side'));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    try {
      const hostPod = await t.runPod('stream-host', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } });
      const { url } = await t.c.runtime.portForward({ podSandboxId: hostPod, port: [port] });
      const pf = await spdyConnect(url, ['portforward.k8s.io']);
      const conn = await pf.forward(port);
      assert.equal((await readAll(conn.data)).toString(), 'host-side');
      assert.equal(await conn.error, '');
      pf.session.destroy();
    } finally {
      srv.close();
    }
  });

  test('tokens are single use and bound to their verb; bad upgrades are refused', async () => {
    const url = await execUrl({ cmd: ['true'], stdout: true });
    const r = await spdyExec(url, { stdout: true });
    assert.equal(exitCodeOf(r.status), 0);
    const again = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    assert.equal('status' in again && again.status, 404);
    const unknown = await spdyUpgrade(url.replace(/\/exec\/.*/, '/exec/nosuchtoken'), ['v4.channel.k8s.io']);
    assert.equal('status' in unknown && unknown.status, 404);
    // an exec token at the attach path is no attach token (and is spent by the try)
    const wrongVerb = await spdyUpgrade((await execUrl({ cmd: ['true'], stdout: true })).replace('/exec/', '/attach/'), ['v4.channel.k8s.io']);
    assert.equal('status' in wrongVerb && wrongVerb.status, 404);
    const noProto = await spdyUpgrade(await execUrl({ cmd: ['true'], stdout: true }), []);
    assert.equal('status' in noProto && noProto.status, 400);
    const v1only = await spdyUpgrade(await execUrl({ cmd: ['true'], stdout: true }), ['channel.k8s.io']);
    assert.ok('status' in v1only);
    assert.equal(v1only.status, 403);
    assert.match(String(v1only.headers['x-accepted-stream-protocol-versions']), /v4\.channel\.k8s\.io/);
    // what the RPCs refuse
    await assert.rejects(t.c.runtime.exec({ containerId: ctr, cmd: ['true'], tty: true, stderr: true }), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
    await assert.rejects(t.c.runtime.exec({ containerId: ctr, cmd: [], stdout: true }), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
    await assert.rejects(t.c.runtime.exec({ containerId: 'f'.repeat(64), cmd: ['true'], stdout: true }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(t.c.runtime.portForward({ podSandboxId: 'f'.repeat(64), port: [80] }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  });

  test('a client vanishing mid-stream leaves no exec process and no socat behind', async () => {
    const url = await execUrl({ cmd: ['sh', '-c', 'echo started; exec sleep 4242'], stdout: true });
    const s = await openCommand(url, { stdout: true });
    await readUntil(s.stdout!, (x) => x.includes('started'));
    assert.equal((await hostProcesses('sleep 4242')).length, 1);
    s.session.destroy();
    assert.deepEqual(await waitGone('sleep 4242'), []);

    await t.container(pod, { metadata: { name: 'slow' }, command: ['nc', '-ll', '-p', '9090', '-e', 'cat'] });
    const { url: pfUrl } = await t.c.runtime.portForward({ podSandboxId: pod, port: [9090] });
    const pf = await spdyConnect(pfUrl, ['portforward.k8s.io']);
    let echoed = '';
    for (let i = 0; i < 50 && echoed !== 'ping'; i++) {
      const conn = await pf.forward(9090);
      conn.data.write('ping');
      echoed = await Promise.race([readUntil(conn.data, (x) => x === 'ping').catch(() => ''), conn.error.then(() => '')]);
      if (echoed !== 'ping') await sleep(100);
      else break;
    }
    assert.equal(echoed, 'ping');
    assert.ok((await hostProcesses('socat -t2 STDIO TCP4:localhost:9090')).length >= 1);
    pf.session.destroy();
    assert.deepEqual(await waitGone('TCP4:localhost:9090'), []);
  });
});
