// Every line of the quick start, with the real docker CLI against a real daemon.
// The steps build on each other (pull, tag, run...), as a user would type them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareFixtures, startDaemon, testRegistry, type Daemon } from './harness.js';

describe('quick start', () => {
  let d: Daemon;
  let registry: { host: string; stop(): Promise<void> };
  let imageId: string;

  before(async () => {
    registry = await testRegistry();
    imageId = (await prepareFixtures()).imageId;
    d = await startDaemon();
  });

  after(async () => {
    try {
      await d?.cleanup();
    } finally {
      await registry?.stop();
    }
  });

  test('docker version shows client and server with API 1.50', async () => {
    const out = await d.dockerOk(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}} {{.Client.APIVersion}}']);
    assert.equal(out, '1.50 linux 1.50');
    const full = await d.dockerOk(['version']);
    assert.match(full, /Server: berth/);
  });

  test('docker info works', async () => {
    const out = await d.dockerOk(['info', '--format', '{{.Driver}} {{.OSType}} {{.DefaultRuntime}} {{.Containers}}']);
    assert.equal(out, 'overlay2 linux runc 0');
  });

  test('docker pull from the test registry', async () => {
    const r = await d.docker(['pull', `${registry.host}/busybox`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Using default tag: latest/);
    assert.match(r.stdout, /Pull complete|Already exists/);
    assert.match(r.stdout, /Status: Downloaded newer image for /);
    assert.match(r.stdout, new RegExp(`${registry.host.replace(/\./g, '\\.')}/busybox:latest`));
    const id = await d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${registry.host}/busybox`]);
    assert.equal(id, imageId, 'the pulled image has the fixture config digest as its ID');
  });

  test('docker tag REGISTRY/busybox busybox', async () => {
    await d.dockerOk(['tag', `${registry.host}/busybox`, 'busybox']);
    const id = await d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']);
    assert.equal(id, imageId);
  });

  test('docker run --rm busybox echo hello prints hello', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    const left = await d.dockerOk(['ps', '-aq']);
    assert.equal(left, '', '--rm removed the container');
  });

  test("the exit code passes through: sh -c 'exit 3' -> 3", async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
  });

  test('echo hi | docker run -i --rm busybox cat prints hi', async () => {
    const r = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  test('docker run -d --name web busybox sleep 1000', async () => {
    const r = await d.docker(['run', '-d', '--name', 'web', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
  });

  test('docker ps shows web running', async () => {
    const out = await d.dockerOk(['ps', '--format', '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}']);
    const lines = out.split('\n');
    assert.equal(lines.length, 1, out);
    const [name, image, command, status] = lines[0].split('|');
    assert.equal(name, 'web');
    assert.equal(image, 'busybox');
    assert.equal(command, '"sleep 1000"');
    assert.match(status, /^Up /);
    const table = await d.dockerOk(['ps']);
    assert.match(table, /CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
  });

  test('docker logs web (no output, no error)', async () => {
    const r = await d.docker(['logs', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  test('docker inspect web', async () => {
    const out = await d.dockerOk(['inspect', 'web']);
    const [c] = JSON.parse(out);
    assert.equal(c.Name, '/web');
    assert.match(c.Id, /^[0-9a-f]{64}$/);
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Status, 'running');
    assert.ok(c.State.Pid > 0);
    assert.deepEqual(c.Config.Cmd, ['sleep', '1000']);
    assert.equal(c.Config.Image, 'busybox');
    assert.equal(c.Image, imageId);
    assert.equal(c.Config.Hostname, c.Id.slice(0, 12));
    assert.equal(c.Driver, 'overlay2');
  });

  test('docker stop web: SIGTERM is ignored by sleep as PID 1, so SIGKILL after 10 s -> 137', { timeout: 30_000 }, async () => {
    const r = await d.docker(['stop', 'web'], { timeoutMs: 25_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'web');
    const state = JSON.parse(await d.dockerOk(['inspect', '--format', '{{json .State}}', 'web']));
    assert.equal(state.Running, false);
    assert.equal(state.Status, 'exited');
    assert.ok(state.ExitCode === 137 || state.ExitCode === 143, `exit code ${state.ExitCode}`);
  });

  test('docker rm web', async () => {
    const r = await d.docker(['rm', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'web');
    const gone = await d.docker(['inspect', 'web']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: web/);
  });

  test('docker images lists both names of the image', async () => {
    const out = await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    const lines = out.split('\n').sort();
    const short = imageId.slice(7, 19);
    assert.deepEqual(lines, [`${registry.host}/busybox:latest ${short}`, `busybox:latest ${short}`].sort());
  });

  test('docker rmi busybox untags; the registry name keeps the image', async () => {
    const r = await d.docker(['rmi', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Untagged: busybox:latest/);
    assert.doesNotMatch(r.stdout, /Deleted:/);
    const rest = await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(rest, `${registry.host}/busybox:latest`);
    const r2 = await d.docker(['rmi', `${registry.host}/busybox`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, new RegExp(`Deleted: ${imageId}`));
    assert.equal(await d.dockerOk(['images', '-q']), '');
  });
});
