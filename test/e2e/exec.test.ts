// docker exec with the real docker CLI, and raw HTTP for what the CLI does not show
// (inspect fields, resize of a finished exec, unknown IDs, events).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DOCKER_BIN, startDaemon, type Daemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exec', () => {
  let d: Daemon;
  const box = 'exec-box';

  /** Create an exec through the API and return its ID. */
  const createExec = async (body: Record<string, unknown>): Promise<string> => {
    const r = await d.api('POST', `/containers/${box}/exec`, body);
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.Id, /^[0-9a-f]{64}$/);
    return r.json.Id as string;
  };

  /** Poll inspect until the exec has exited (detached execs). */
  const exited = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const r = await d.api('GET', `/exec/${id}/json`);
      if (r.json && r.json.Running === false && r.json.ExitCode !== null) return r.json;
      await sleep(50);
    }
    throw new Error(`exec ${id} did not exit`);
  };

  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    await d.dockerOk(['run', '-d', '--name', box, '-e', 'FROM_CTR=yes', 'busybox', 'sleep', '100000']);
  });
  after(async () => {
    await d?.api('DELETE', `/containers/${box}?force=1`);
    await d?.cleanup();
  });

  test('echo, exit codes, stdout and stderr kept apart', async () => {
    assert.equal(await d.dockerOk(['exec', box, 'echo', 'hi']), 'hi');
    const five = await d.docker(['exec', box, 'sh', '-c', 'exit 5']);
    assert.equal(five.code, 5);
    const both = await d.docker(['exec', box, 'sh', '-c', 'echo out; echo err >&2; exit 2']);
    assert.equal(both.code, 2);
    assert.equal(both.stdout, 'out\n');
    assert.equal(both.stderr, 'err\n');
  });

  test('a missing command: Docker message and exit code 127', async () => {
    const r = await d.docker(['exec', box, 'no-such-cmd']);
    assert.equal(r.code, 127);
    assert.match(r.stdout + r.stderr, /OCI runtime exec failed: .*executable file not found in \$PATH/);
  });

  test('-i with piped stdin: every byte through, stdin EOF ends the process', async () => {
    assert.equal(await d.dockerOk(['exec', '-i', box, 'cat'], { input: 'hi\n' }), 'hi');
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
    const r = await d.docker(['exec', '-i', box, 'sh', '-c', 'cat | md5sum'], { input: big });
    assert.equal(r.code, 0, r.stderr);
    const { createHash } = await import('node:crypto');
    assert.equal(r.stdout.split(' ')[0], createHash('md5').update(big).digest('hex'));
  });

  test('large output arrives complete before the exit code', async () => {
    const r = await d.docker(['exec', box, 'sh', '-c', 'yes 0123456789abcdef | head -c 5000000; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout.length, 5_000_000);
  });

  test('-t under a pty: terminal, console size, exit code', async () => {
    // script's stdin stays open: an EOF there would reach the CLI as the end of its TTY input.
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('script', ['-qefc', `stty rows 33 cols 101; ${DOCKER_BIN} exec -it ${box} sh -c 'tty; stty size; exit 3'`, '/dev/null'], {
        env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: d.dockerConfig },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (code) => {
        child.stdin.destroy();
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /33 101/);
  });

  test('-u, -w, -e and the container environment', async () => {
    assert.match(await d.dockerOk(['exec', '-u', 'nobody', box, 'id']), /^uid=65534\(nobody\) gid=65534\(nobody\)/);
    assert.match(await d.dockerOk(['exec', '-u', '1000:1000', box, 'id']), /^uid=1000 gid=1000/);
    assert.equal(await d.dockerOk(['exec', '-w', '/tmp', box, 'pwd']), '/tmp');
    assert.equal(await d.dockerOk(['exec', '-e', 'A=b', box, 'sh', '-c', 'echo $A $FROM_CTR']), 'b yes');
    const bad = await d.docker(['exec', '-u', 'no-such-user', box, 'id']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unable to find user no-such-user: no matching entries in passwd file/);
  });

  test('-d runs in the background', async () => {
    const r = await d.docker(['exec', '-d', box, 'sh', '-c', 'sleep 0.3; touch /tmp/detached-done']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      found = (await d.docker(['exec', box, 'test', '-e', '/tmp/detached-done'])).code === 0;
      if (!found) await sleep(50);
    }
    assert.ok(found, 'the detached exec ran');
  });

  test('--privileged: runs with every capability, or fails clearly where the host cannot grant them', async () => {
    const r = await d.docker(['exec', '--privileged', box, 'grep', 'CapEff', '/proc/self/status']);
    if (r.code === 0) {
      assert.doesNotMatch(r.stdout, /CapEff:\s+00000000a80425fb/); // not the default set
    } else {
      // moby 28 records the runtime's answer: EPERM is neither 126 nor 127, so exitUnknown
      assert.equal(r.code, 128);
      assert.match(r.stdout + r.stderr, /OCI runtime exec failed: .*operation not permitted.*capability bounding set lacks CAP_[A-Z_]+/);
    }
  });

  test('exec in a stopped container: 409 and exit code 1', async () => {
    const id = await d.dockerOk(['run', '-d', 'busybox', 'true']);
    try {
      await d.dockerOk(['wait', id]);
      const r = await d.docker(['exec', id, 'echo', 'hi']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`Error response from daemon: container ${id} is not running`));
      const api = await d.api('POST', `/containers/${id}/exec`, { Cmd: ['echo'] });
      assert.equal(api.status, 409);
    } finally {
      await d.api('DELETE', `/containers/${id}?force=1`);
    }
  });

  test('create validation and unknown exec IDs', async () => {
    const empty = await d.api('POST', `/containers/${box}/exec`, { Cmd: [] });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.message, 'No exec command specified');
    const missing = await d.api('POST', '/containers/no-such-ctr/exec', { Cmd: ['true'] });
    assert.equal(missing.status, 404);
    for (const [method, path] of [
      ['GET', '/exec/abc/json'],
      ['POST', '/exec/abc/resize?h=10&w=10'],
    ] as const) {
      const r = await d.api(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.json.message, 'No such exec instance: abc');
    }
    const start = await d.api('POST', '/exec/abc/start', { Detach: true });
    assert.equal(start.status, 404);
    // Exact match only: a prefix of a real ID is not an exec.
    const id = await createExec({ Cmd: ['true'] });
    assert.equal((await d.api('GET', `/exec/${id.slice(0, 12)}/json`)).status, 404);
  });

  test('inspect before and after, ExecIDs, start twice, resize of a finished exec', async () => {
    const id = await createExec({ Cmd: ['sh', '-c', 'exit 4'], User: 'nobody', AttachStdout: true, DetachKeys: 'ctrl-x,y' });
    let ins = (await d.api('GET', `/exec/${id}/json`)).json;
    assert.equal(ins.ID, id);
    assert.equal(ins.Running, false);
    assert.equal(ins.ExitCode, null);
    assert.deepEqual(ins.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 4'], privileged: false, user: 'nobody' });
    assert.equal(ins.OpenStdout, true);
    assert.equal(ins.OpenStdin, false);
    assert.equal(ins.CanRemove, false);
    assert.equal(ins.DetachKeys, Buffer.from([0x18, 0x79]).toString('base64'));
    assert.equal(ins.Pid, 0);
    const ctr = (await d.api('GET', `/containers/${box}/json`)).json;
    assert.ok(ctr.ExecIDs.includes(id), 'a created exec is listed in ExecIDs');
    assert.ok(ins.ContainerID === ctr.Id);

    const started = await d.api('POST', `/exec/${id}/start`, { Detach: true });
    assert.equal(started.status, 200);
    ins = await exited(id);
    assert.equal(ins.ExitCode, 4);
    assert.ok(ins.Pid > 0);
    const after = (await d.api('GET', `/containers/${box}/json`)).json;
    assert.ok(!(after.ExecIDs ?? []).includes(id), 'an exited exec leaves ExecIDs');

    const again = await d.api('POST', `/exec/${id}/start`, { Detach: true });
    assert.equal(again.status, 409);
    assert.equal(again.json.message, `exec command ${id} has already run`);
    const resize = await d.api('POST', `/exec/${id}/resize?h=20&w=80`);
    assert.equal(resize.status, 409);
    const badSize = await d.api('POST', `/exec/${id}/resize?h=x&w=80`);
    assert.equal(badSize.status, 400);
  });

  test('resize of a running TTY exec', async () => {
    const id = await createExec({ Cmd: ['sleep', '30'], Tty: true });
    assert.equal((await d.api('POST', `/exec/${id}/start`, { Detach: true, Tty: true })).status, 200);
    assert.equal((await d.api('POST', `/exec/${id}/resize?h=40&w=120`)).status, 200);
    const pid = (await d.api('GET', `/exec/${id}/json`)).json.Pid;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    assert.equal((await exited(id)).ExitCode, 137);
  });

  test('events: exec_create, exec_start, exec_die with Docker attributes', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await createExec({ Cmd: ['sh', '-c', 'exit 6'] });
    await d.api('POST', `/exec/${id}/start`, { Detach: true });
    await exited(id);
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await d.api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: [box] }))}`);
    const events = r.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.Actor?.Attributes?.execID === id);
    const actions = events.map((e) => e.Action);
    assert.deepEqual(actions, ['exec_create: sh -c exit 6', 'exec_start: sh -c exit 6', 'exec_die']);
    const die = events[2];
    assert.equal(die.Actor.Attributes.exitCode, '6');
    assert.equal(die.Actor.Attributes.name, box);
    assert.equal(die.Actor.Attributes.image, 'busybox');
  });

  test('exec instances go away with their container', async () => {
    const cid = await d.dockerOk(['run', '-d', 'busybox', 'sleep', '1000']);
    const r = await d.api('POST', `/containers/${cid}/exec`, { Cmd: ['true'] });
    assert.equal(r.status, 201);
    const id = r.json.Id as string;
    await d.dockerOk(['rm', '-f', cid]);
    assert.equal((await d.api('GET', `/exec/${id}/json`)).status, 404);
  });
});
