// Real conmon + runc: no mocks. Needs root, /usr/bin/conmon, /usr/sbin/runc, /bin/busybox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConmonBackend } from '../../src/runtime/conmon-backend.js';
import { buildSpec, cgroupsPathFor } from '../../src/runtime/oci-spec.js';
import type { TaskExit } from '../../src/runtime/task-backend.js';
import { resolveUser } from '../../src/runtime/user.js';

const RUNC = { name: 'runc', path: '/usr/sbin/runc', args: [] };
const quiet = { debug() {}, warn() {}, error() {} };

let tmp: string;
let rootfs: string;
let execRoot: string;
let backend: ConmonBackend;
const exits: TaskExit[] = [];
const created: string[] = [];

function newId(): string {
  return randomBytes(32).toString('hex');
}

function waitForExit(id: string, timeoutMs = 10000): Promise<TaskExit> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      const found = exits.find((e) => e.id === id);
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no exit for ${id}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

async function createTask(
  args: string[],
  opts: { stdin?: boolean; terminal?: boolean; privileged?: boolean; on?: ConmonBackend } = {},
) {
  const id = newId();
  const bundle = join(tmp, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  const spec = buildSpec({
    rootfs,
    args,
    env: ['PATH=/bin', 'HOME=/'],
    cwd: '/',
    user: await resolveUser(rootfs, ''),
    terminal: opts.terminal ?? false,
    hostname: id.slice(0, 12),
    network: { mode: 'none' },
    etcFiles: {},
    binds: [],
    cgroupsPath: cgroupsPathFor(id),
    privileged: opts.privileged,
  });
  created.push(id);
  const logPath = join(bundle, 'ctr.log');
  const t0 = performance.now();
  const { pid } = await (opts.on ?? backend).create({
    id,
    bundle,
    spec,
    logPath,
    stdin: opts.stdin ?? false,
    terminal: opts.terminal ?? false,
    runtime: RUNC,
  });
  return { id, bundle, logPath, pid, createdMs: performance.now() - t0 };
}

before(() => {
  tmp = mkdtempSync('/tmp/berth-rt-');
  rootfs = join(tmp, 'rootfs');
  for (const dir of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, dir), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  for (const tool of ['sh', 'echo', 'cat', 'sleep', 'stty', 'true']) symlinkSync('busybox', join(rootfs, 'bin', tool));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  execRoot = join(tmp, 'run');
  backend = new ConmonBackend({ execRoot, logger: quiet });
  backend.onExit((e) => exits.push(e));
});

after(async () => {
  for (const id of created) await backend.delete(id, { force: true }).catch(() => undefined);
  await backend.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ConmonBackend with conmon + runc', () => {
  test('echo output lands in the k8s-file log and exit 3 reaches onExit', async () => {
    const t = await createTask(['sh', '-c', 'echo hello; exit 3']);
    const t0 = performance.now();
    await backend.start(t.id);
    const startMs = performance.now() - t0;
    console.log(`create ${t.createdMs.toFixed(1)} ms, start ${startMs.toFixed(1)} ms`);
    const exit = await waitForExit(t.id);
    assert.equal(exit.exitCode, 3);
    assert.equal(exit.oomKilled, false);
    const log = readFileSync(t.logPath, 'utf8');
    assert.match(log, /^\S+ stdout F hello$/m);
    await backend.delete(t.id);
  });

  test('create+start latency over 10 runs', async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const t = await createTask(['true']);
      await backend.start(t.id);
      times.push(performance.now() - t0);
      await waitForExit(t.id);
      await backend.delete(t.id);
    }
    times.sort((a, b) => a - b);
    console.log(`create+start median ${times[5]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times[9]!.toFixed(1)})`);
  });

  test('attach before start sees all stdout and stderr separated', async () => {
    const t = await createTask(['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done']);
    const a = await backend.attach(t.id);
    assert.equal(a.stdin, null);
    const out = collect(a.stdout);
    const err = collect(a.stderr);
    await backend.start(t.id);
    assert.equal(await out, 'out1\nout2\nout3\n');
    assert.equal(await err, 'err1\nerr2\nerr3\n');
    assert.equal((await waitForExit(t.id)).exitCode, 0);
    await backend.delete(t.id);
  });

  test('stdin: bytes reach cat and stdin.end() makes it exit', async () => {
    const t = await createTask(['cat'], { stdin: true });
    const a = await backend.attach(t.id);
    assert.ok(a.stdin);
    const out = collect(a.stdout);
    await backend.start(t.id);
    a.stdin.write('hi there\n');
    const big = 'x'.repeat(100000) + '\n';
    a.stdin.write(big);
    a.stdin.end();
    assert.equal(await out, 'hi there\n' + big);
    assert.equal((await waitForExit(t.id)).exitCode, 0);
    await backend.delete(t.id);
  });

  test('TTY mode works and resize does not fail', async () => {
    const t = await createTask(['sh', '-c', 'sleep 0.3; stty size; echo tty-ok'], { terminal: true, stdin: true });
    const a = await backend.attach(t.id);
    const out = collect(a.stdout);
    await backend.start(t.id);
    await backend.resize(t.id, 33, 101);
    const text = await out;
    assert.match(text, /33 101/);
    assert.match(text, /tty-ok/);
    assert.equal((await waitForExit(t.id)).exitCode, 0);
    await backend.delete(t.id);
  });

  test('kill with SIGTERM and SIGKILL', async () => {
    const a = await createTask(['sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.05; done']);
    await backend.start(a.id);
    await new Promise((r) => setTimeout(r, 200));
    await backend.kill(a.id, 'SIGTERM');
    assert.equal((await waitForExit(a.id)).exitCode, 7);
    const b = await createTask(['sleep', '100']);
    await backend.start(b.id);
    assert.equal((await backend.status(b.id)).status, 'running');
    await backend.kill(b.id, 'KILL');
    assert.equal((await waitForExit(b.id)).exitCode, 137);
    await backend.delete(a.id);
    await backend.delete(b.id);
  });

  test('a missing binary fails create with runc reason', async () => {
    await assert.rejects(createTask(['nope']), (err: Error) => {
      assert.equal(err.name, 'SystemError');
      assert.match(err.message, /exec: "nope": executable file not found in \$PATH/);
      assert.doesNotMatch(err.message, /level=|"msg"/);
      return true;
    });
    const id = created.at(-1)!;
    assert.equal(existsSync(join(execRoot, 'tasks', id)), false);
    assert.equal(existsSync(join(execRoot, 'runc', id)), false);
  });

  test('privileged start failure surfaces as a SystemError with runc reason', async () => {
    try {
      const t = await createTask(['true'], { privileged: true });
      await backend.start(t.id);
      await waitForExit(t.id);
      await backend.delete(t.id); // this host can run privileged containers
    } catch (err) {
      assert.equal((err as Error).name, 'SystemError');
      assert.match((err as Error).message, /OCI runtime (create|start) failed: .+/);
      console.log(`privileged: ${(err as Error).message}`);
    }
  });

  test('status and recover from a fresh backend see a running task and an exit missed while down', async () => {
    const running = await createTask(['sleep', '100']);
    await backend.start(running.id);
    const dying = await createTask(['sh', '-c', 'sleep 0.5; exit 5']);
    await backend.start(dying.id);
    await backend.close(); // the "daemon" goes away; tasks keep running
    await new Promise((r) => setTimeout(r, 1000));
    exits.length = 0;

    const restarted = new ConmonBackend({ execRoot, logger: quiet });
    const seen: TaskExit[] = [];
    restarted.onExit((e) => seen.push(e));
    const statuses = await restarted.recover([running.id, dying.id]);
    assert.equal(statuses.get(running.id)?.status, 'running');
    assert.ok((statuses.get(running.id)?.pid ?? 0) > 0);
    assert.equal(statuses.get(dying.id)?.status, 'stopped');
    assert.equal(statuses.get(dying.id)?.exit?.exitCode, 5);
    assert.deepEqual(seen.map((e) => [e.id, e.exitCode]), [[dying.id, 5]]);

    await restarted.kill(running.id, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (!seen.some((e) => e.id === running.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.find((e) => e.id === running.id)?.exitCode, 137);
    assert.equal(seen.length, 2, 'each exit reported once');

    for (const id of [running.id, dying.id]) {
      await restarted.delete(id);
      assert.equal(existsSync(join(execRoot, 'runc', id)), false, 'runc state gone');
      assert.equal(existsSync(join(execRoot, 'tasks', id)), false, 'task dir gone');
      for (const controller of readdirSync('/sys/fs/cgroup')) {
        assert.equal(existsSync(join('/sys/fs/cgroup', controller, 'berth', id)), false, `cgroup ${controller} gone`);
      }
      const conmons = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(`-c ${id}`));
      assert.deepEqual(conmons, []);
    }
    await restarted.close();
    backend = new ConmonBackend({ execRoot, logger: quiet });
    backend.onExit((e) => exits.push(e));
  });
});
