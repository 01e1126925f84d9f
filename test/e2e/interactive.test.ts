// Interactive use (issue 3, item 1): `docker run -it` and `docker attach` in a real terminal
// (tmux), resize, detach keys, piped stdin, and the raw attach protocol (TTY and multiplexed
// streams, half-close, server-side detach keys) where the CLI cannot show it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { daemonForFile } from './harness.js';
import { Tmux } from './tmux.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A hijacked attach over the daemon's socket: the status line, then everything it sends. */
class RawAttach {
  status = 0;
  head = '';
  body = Buffer.alloc(0);
  ended = false;
  readonly done: Promise<void>;

  private constructor(readonly socket: Socket) {
    let headDone = false;
    let pending = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      if (headDone) {
        this.body = Buffer.concat([this.body, c]);
        return;
      }
      pending = Buffer.concat([pending, c]);
      const i = pending.indexOf('\r\n\r\n');
      if (i < 0) return;
      headDone = true;
      this.head = pending.subarray(0, i).toString();
      this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(this.head)?.[1] ?? 0);
      this.body = pending.subarray(i + 4);
    });
    this.done = new Promise((resolve) => {
      socket.once('end', () => {
        this.ended = true;
        resolve();
      });
      socket.once('close', () => {
        this.ended = true;
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static async open(socketPath: string, path: string): Promise<RawAttach> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const a = new RawAttach(socket);
    socket.write(`POST /v1.50${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
    await a.until(() => a.status !== 0 || a.ended);
    return a;
  }

  async until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`raw attach: condition not met; head ${this.head}; body ${JSON.stringify(this.body.toString())}`);
      await sleep(20);
    }
  }

  text(): string {
    return this.body.toString();
  }

  /** The body as stdcopy frames: stream number -> concatenated payload. */
  frames(): Map<number, string> {
    const out = new Map<number, string>();
    let b = this.body;
    while (b.length >= 8) {
      const len = b.readUInt32BE(4);
      if (b.length < 8 + len) break;
      out.set(b[0]!, (out.get(b[0]!) ?? '') + b.subarray(8, 8 + len).toString());
      b = b.subarray(8 + len);
    }
    return out;
  }
}

/** A minimal WebSocket client over the unix socket (Node 20 has none built in). */
class WsClient {
  status = 0;
  messages: Buffer[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private upgraded = false;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      if (!this.upgraded) {
        const i = this.buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(this.buf.subarray(0, i).toString())?.[1] ?? 0);
        this.buf = this.buf.subarray(i + 4);
        this.upgraded = true;
      }
      this.parse();
    });
  }

  static async open(socketPath: string, path: string): Promise<WsClient> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new WsClient(socket);
    const key = Buffer.from('berth-test-key-1').toString('base64');
    socket.write(`GET /v1.50${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    const deadline = Date.now() + 20_000;
    while (c.status === 0 && Date.now() < deadline) await sleep(20);
    return c;
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (op === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.socket.end();
      } else if (op === 0x1 || op === 0x2 || op === 0x0) {
        this.messages.push(Buffer.from(payload));
      }
    }
  }

  /** One masked binary message. */
  send(data: string): void {
    const payload = Buffer.from(data);
    assert.ok(payload.length < 126);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]));
  }

  text(): string {
    return Buffer.concat(this.messages).toString();
  }
}

describe('interactive', () => {
  const f = daemonForFile();
  const d = () => f.daemon();
  let tmux: Tmux;
  before(() => {
    tmux = new Tmux(d());
  });
  after(async () => {
    await tmux?.kill();
  });

  /** The container's processes as `ps -o args` lists them. */
  const processes = async (name: string) => (await d().dockerOk(['exec', name, 'ps', '-o', 'args'])).split('\n').map((l) => l.trim());

  const until = async (what: string, pred: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  /** Wait for an event of this container that happened since `since` (seconds). */
  const waitEvent = async (name: string, action: string, since: number) => {
    const filters = encodeURIComponent(JSON.stringify({ container: [name], event: [action] }));
    await until(`event ${action} of ${name}`, async () => {
      const r = await d().api('GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${filters}`);
      return r.status === 200 && r.text.includes(`"${action}"`);
    });
  };

  test('docker run -it --rm sh: echo, commands, terminal size and resize, Ctrl-C, exit code', async () => {
    const name = f.name('it-shell');
    const p = await tmux.run(['run', '-it', '--rm', '--name', name, 'busybox', 'sh'], { width: 100, height: 30 });
    await tmux.waitFor(p, /\/ # $/m);
    await tmux.line(p, 'echo hello-$((1+2))');
    await tmux.waitFor(p, /^hello-3\r?$/m); // the typed line is echoed by the TTY, the result is not
    await tmux.line(p, 'stty size');
    await tmux.waitFor(p, /^30 100\r?$/m); // the CLI sent the terminal's size before start
    await tmux.resize(p, 120, 40);
    // SIGWINCH -> the CLI's POST /containers/{id}/resize -> conmon -> the TTY
    await until('resize reached the TTY', async () => {
      await tmux.line(p, 'stty size');
      await sleep(200);
      return /^40 120\r?$/m.test(await tmux.screen(p));
    });

    // Ctrl-C interrupts the running command, not the shell
    await tmux.line(p, 'sleep 1000');
    await until('sleep runs', async () => (await processes(name)).includes('sleep 1000'));
    await tmux.keys(p, ['C-c']);
    await until('sleep interrupted', async () => !(await processes(name)).includes('sleep 1000'));
    await tmux.line(p, 'echo alive-$((2*3))');
    await tmux.waitFor(p, /^alive-6\r?$/m);

    await tmux.line(p, 'exit 3');
    assert.equal(await tmux.exitCode(p), 3);
    await until('--rm removed it', async () => (await d().api('GET', `/containers/${name}/json`)).status === 404);
  });

  test('Ctrl-D ends the shell', async () => {
    const name = f.name('it-ctrl-d');
    const p = await tmux.run(['run', '-it', '--name', name, 'busybox', 'sh']);
    await tmux.waitFor(p, /\/ # $/m);
    await tmux.keys(p, ['C-d']);
    assert.equal(await tmux.exitCode(p), 0);
    const c = await d().waitInspect(name, (c) => c.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 0);
  });

  test('ctrl-p ctrl-q detaches docker run -it; docker attach (also with --detach-keys) reaches the same shell', async () => {
    const name = f.name('it-detach');
    const p = await tmux.run(['run', '-it', '--name', name, 'busybox', 'sh']);
    await tmux.waitFor(p, /\/ # $/m);
    await tmux.line(p, 'MARK=kept-$((40+2))');
    await tmux.keys(p, ['C-p', 'C-q']);
    assert.equal(await tmux.exitCode(p), 0); // docker run returns quietly on detach
    assert.equal((await f.inspect(name)).State.Running, true);

    const a = await tmux.run(['attach', '--detach-keys', 'ctrl-x,x', name]);
    await until('attached', async () => {
      await tmux.keys(a, ['Enter']);
      await sleep(200);
      return /\/ # $/m.test(await tmux.screen(a));
    });
    await tmux.line(a, 'echo $MARK');
    await tmux.waitFor(a, /^kept-42\r?$/m); // same shell: stdin stayed open across the detach
    await tmux.keys(a, ['C-x', 'x']);
    await tmux.waitFor(a, /EXITED=\d+/); // docker 28 prints "read escape sequence" here
    assert.equal((await f.inspect(name)).State.Running, true);

    const b = await tmux.run(['attach', name]);
    await until('attached again', async () => {
      await tmux.keys(b, ['Enter']);
      await sleep(200);
      return /\/ # $/m.test(await tmux.screen(b));
    });
    await tmux.line(b, 'exit 7');
    assert.equal(await tmux.exitCode(b), 7);
    const c = await d().waitInspect(name, (c) => c.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 7);
  });

  test('echo hi | docker run -i --rm busybox cat prints hi and exits', async () => {
    const r = await d().docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh\n');
    const wc = await d().docker(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big });
    assert.equal(wc.stdout.trim(), String(big.length));
  });

  test('no stdin: the CLI half-closes at once and output still arrives', async () => {
    const r = await d().docker(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 0.3; echo late; echo err >&2; exit 6']);
    assert.equal(r.code, 6);
    assert.equal(r.stdout, 'late\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('docker attach without a TTY: stdout and stderr apart, the exit code', async () => {
    const name = f.name('attach-plain');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'while [ ! -f /tmp/go ]; do sleep 0.1; done; echo out; echo err >&2; exit 4']);
    const since = Math.floor(Date.now() / 1000) - 1;
    const attached = d().docker(['attach', name]);
    await waitEvent(name, 'attach', since);
    await d().dockerOk(['exec', name, 'touch', '/tmp/go']);
    const r = await attached;
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('raw API: multiplexed attach, stdin half-close reaches the process, output keeps flowing', async () => {
    const name = f.name('raw-mux');
    const cr = await d().api('POST', `/containers/create?name=${name}`, {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'cat; echo done >&2; exit 4'],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    assert.equal(cr.status, 201, cr.text);
    const a = await RawAttach.open(d().socket, `/containers/${name}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    assert.equal(a.status, 101);
    assert.match(a.head, /application\/vnd\.docker\.multiplexed-stream/);
    assert.equal((await d().api('POST', `/containers/${name}/start`)).status, 204);
    a.socket.write('abc\n');
    a.socket.end(); // half-close: cat sees EOF, the stream stays open for its output
    await a.done;
    const frames = a.frames();
    assert.equal(frames.get(1), 'abc\n');
    assert.equal(frames.get(2), 'done\n');
    const w = await d().api('POST', `/containers/${name}/wait`);
    assert.equal(w.json.StatusCode, 4);
  });

  test('raw API: TTY attach, resize reaches stty, server-side detach keys are swallowed', async () => {
    const name = f.name('raw-tty');
    await d().dockerOk(['run', '-dit', '--name', name, 'busybox', 'sh']);
    const bad = await d().api('POST', `/containers/${name}/attach?stream=1&stdin=1&detachKeys=ctrl-foo`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /Invalid detach keys \(ctrl-foo\) provided/);

    const a = await RawAttach.open(d().socket, `/containers/${name}/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=z,z`);
    assert.equal(a.status, 101);
    assert.match(a.head, /application\/vnd\.docker\.raw-stream/);
    assert.equal((await d().api('POST', `/containers/${name}/resize?h=33&w=77`)).status, 200);
    a.socket.write('stty size\r');
    await a.until(() => /33 77/.test(a.text()));
    const since = Math.floor(Date.now() / 1000) - 1;
    // some typed text, a broken sequence ('z' then 'q'), then the sequence itself
    a.socket.write('echo Q');
    a.socket.write('zq');
    a.socket.write('zz');
    await a.done; // the daemon ends the session; the container keeps running
    assert.equal((await f.inspect(name)).State.Running, true);
    await waitEvent(name, 'detach', since);

    const b = await RawAttach.open(d().socket, `/containers/${name}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    b.socket.write('R\r');
    // the line typed before the detach continues: the broken 'zq' went through, 'zz' did not
    await b.until(() => /^Qzq\S*\r?$/m.test(b.text()));
    assert.match(b.text(), /^QzqR\r?$/m);
    b.socket.write('exit 9\r');
    await b.done;
    const c = await d().waitInspect(name, (c) => c.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 9);
  });

  test('attach/ws: output as binary messages, messages are stdin, logs replay', async () => {
    const name = f.name('ws-attach');
    await d().dockerOk(['run', '-d', '-i', '--name', name, 'busybox', 'sh', '-c', 'echo early; while read l; do echo "got:$l"; echo "err:$l" >&2; done']);
    await d().waitInspect(name, (c) => c.State.Running);
    const ws = await WsClient.open(d().socket, `/containers/${name}/attach/ws?logs=1&stream=1&stdin=1&stdout=1&stderr=1`);
    assert.equal(ws.status, 101);
    const deadline = Date.now() + 20_000;
    while (!/early/.test(ws.text()) && Date.now() < deadline) await sleep(20);
    assert.match(ws.text(), /early/); // logs=1 replays what was printed before the attach
    ws.send('hello\n');
    while (!/err:hello/.test(ws.text()) && Date.now() < deadline) await sleep(20);
    assert.match(ws.text(), /got:hello\n/);
    assert.match(ws.text(), /err:hello\n/); // not multiplexed: stderr comes as plain bytes too
    await d().dockerOk(['kill', name]);
    await ws.closed; // the container's end closes the socket
    assert.equal(ws.closeCode, 1000);

    const gone = await WsClient.open(d().socket, '/containers/no-such-ctr/attach/ws?stream=1&stdout=1');
    assert.equal(gone.status, 404); // answered before the upgrade, as moby does
    const bad = await WsClient.open(d().socket, `/containers/${name}/attach/ws?stream=1&stdout=1&detachKeys=ctrl-foo`);
    assert.equal(bad.status, 400);
  });

  test('resize of a stopped container is a 409, an unknown one a 404', async () => {
    const name = f.name('resize-stopped');
    await d().dockerOk(['create', '-t', '--name', name, 'busybox', 'sh']);
    const r = await d().api('POST', `/containers/${name}/resize?h=10&w=10`);
    assert.equal(r.status, 409);
    assert.match(r.json.message, /is not running/);
    assert.equal((await d().api('POST', '/containers/no-such-thing/resize?h=10&w=10')).status, 404);
  });
});
