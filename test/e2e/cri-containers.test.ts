// CRI containers over the gRPC socket (issue 12 item 3): create/start/stop/remove/status/list with
// filters and idempotence, the CRI log at log_directory/log_path and ReopenContainerLog, ExecSync
// (output, exit code, timeout that kills the process), stats, mounts, UpdateContainerResources,
// OOMKilled, Docker's view kept apart, and a daemon restart with a container running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { criClient } from '../fixtures/cri-client.js';
import { BUSYBOX, sleep, startCriPodDaemon, type CriPodDaemon } from '../fixtures/cri-pod-daemon.js';

const run = promisify(execFile);
const text = (b: unknown) => Buffer.from((b as Buffer | undefined) ?? []).toString('utf8');

describe('CRI containers', () => {
  let t: CriPodDaemon;
  let pod: string;
  let logDir: string;

  before(async () => {
    t = await startCriPodDaemon();
    logDir = await mkdtemp('/tmp/bt-podlog-');
    pod = await t.runPod('ctr', { logDirectory: logDir });
  });

  after(async () => {
    await t?.close();
    await rm(logDir, { recursive: true, force: true });
  });

  const exec = async (id: string, cmd: string[], timeout = 0) => {
    const r = await t.c.runtime.execSync({ containerId: id, cmd, timeout: String(timeout) });
    return { stdout: text(r.stdout), stderr: text(r.stderr), exitCode: r.exitCode ?? 0 };
  };

  test('create, start, status, list with filters, stop, remove; stop and remove idempotent; Docker never sees it', async () => {
    const id = await t.container(pod, { metadata: { name: 'life', attempt: 1 }, command: ['top'], labels: { app: 'a', tier: 'x' }, annotations: { note: 'n' } }, { start: false });
    let s = (await t.c.runtime.containerStatus({ containerId: id })).status;
    assert.equal(s.state ?? 'CONTAINER_CREATED', 'CONTAINER_CREATED');
    assert.deepEqual({ name: s.metadata.name, attempt: s.metadata.attempt }, { name: 'life', attempt: 1 });
    assert.deepEqual(s.labels, { app: 'a', tier: 'x' });
    assert.deepEqual(s.annotations, { note: 'n' });
    assert.equal(s.image.image, BUSYBOX);
    assert.match(s.imageRef, /^sha256:[0-9a-f]{64}$/);
    assert.ok(BigInt(s.createdAt) > 0n);

    // the same metadata in the same pod again is refused, as kubelet expects
    await assert.rejects(
      t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'life', attempt: 1 }, image: { image: BUSYBOX }, command: ['top'] } }),
      (e: grpc.ServiceError) => e.code === grpc.status.ALREADY_EXISTS,
    );
    await assert.rejects(
      t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'noimg' }, image: { image: 'berth-test/absent:1' } } }),
      (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
    );

    await t.c.runtime.startContainer({ containerId: id });
    s = await t.waitState(id, 'CONTAINER_RUNNING');
    assert.ok(BigInt(s.startedAt as string) > 0n);

    const ids = async (filter: unknown) => ((await t.c.runtime.listContainers({ filter })).containers ?? []).map((c: { id: string }) => c.id);
    assert.deepEqual(await ids({ id }), [id]);
    assert.deepEqual(await ids({ id: id.slice(0, 12) }), [id]);
    assert.ok((await ids({ podSandboxId: pod })).includes(id));
    assert.ok((await ids({ labelSelector: { app: 'a' } })).includes(id));
    assert.ok(!(await ids({ labelSelector: { app: 'a', tier: 'y' } })).includes(id));
    assert.deepEqual(await ids({ id, state: { state: 'CONTAINER_RUNNING' } }), [id]);
    assert.deepEqual(await ids({ id, state: {} }), [], 'an empty state value is CONTAINER_CREATED');
    const listed = (await t.c.runtime.listContainers({ filter: { id } })).containers[0];
    assert.equal(listed.podSandboxId, pod);
    assert.equal(listed.metadata.name, 'life');

    // Docker's view: neither the list, nor a name, nor an id prefix finds it
    assert.ok(!(await t.d.dockerOk(['ps', '-a', '--no-trunc', '-q'])).includes(id));
    assert.equal((await t.d.api('GET', `/containers/${id.slice(0, 12)}/json`)).status, 404);

    await t.c.runtime.stopContainer({ containerId: id, timeout: '10' });
    s = (await t.c.runtime.containerStatus({ containerId: id })).status;
    assert.equal(s.state, 'CONTAINER_EXITED');
    assert.ok(BigInt(s.finishedAt as string) > 0n);
    assert.equal(typeof s.reason, 'string');
    await t.c.runtime.stopContainer({ containerId: id, timeout: '10' });
    await t.c.runtime.removeContainer({ containerId: id });
    await t.c.runtime.removeContainer({ containerId: id });
    await t.c.runtime.stopContainer({ containerId: 'f'.repeat(64) });
    await t.c.runtime.removeContainer({ containerId: 'f'.repeat(64) });
    await assert.rejects(t.c.runtime.containerStatus({ containerId: id }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    assert.deepEqual(await ids({ id }), []);
  });

  test('a device node is mapped in; a container of a stopped pod cannot start', async () => {
    const id = await t.container(pod, { metadata: { name: 'device' }, command: ['top'], devices: [{ hostPath: '/dev/zero', containerPath: '/dev/myzero', permissions: 'rwm' }] });
    await t.waitState(id, 'CONTAINER_RUNNING');
    assert.equal((await exec(id, ['sh', '-c', 'head -c 5 /dev/myzero | wc -c'])).stdout.trim(), '5');
    const other = await t.runPod('stopped');
    const late = await t.container(other, { metadata: { name: 'late' }, command: ['top'] }, { start: false });
    await t.c.runtime.stopPodSandbox({ podSandboxId: other });
    await assert.rejects(t.c.runtime.startContainer({ containerId: late }), (e: grpc.ServiceError) => e.code === grpc.status.FAILED_PRECONDITION && /not running/.test(e.details));
  });

  test('a failed start is EXITED with reason StartError; resources are echoed in the status', async () => {
    const id = await t.container(pod, { metadata: { name: 'no-such-cmd' }, command: ['/no/such/binary'], linux: { resources: { memoryLimitInBytes: String(32 * 1024 * 1024), cpuShares: '512' } } }, { start: false });
    const before = (await t.c.runtime.containerStatus({ containerId: id })).status;
    assert.equal(before.resources.linux.memoryLimitInBytes, String(32 * 1024 * 1024));
    assert.equal(before.resources.linux.cpuShares, '512');
    await assert.rejects(t.c.runtime.startContainer({ containerId: id }), (e: grpc.ServiceError) => /no such file|not found/.test(e.details));
    const s = (await t.c.runtime.containerStatus({ containerId: id })).status;
    assert.equal(s.state, 'CONTAINER_EXITED');
    assert.equal(s.reason, 'StartError');
    assert.match(s.message, /no such file|not found/);
    await assert.rejects(t.c.runtime.startContainer({ containerId: id }), (e: grpc.ServiceError) => e.code === grpc.status.FAILED_PRECONDITION);
    await t.c.runtime.removeContainer({ containerId: id });
  });

  test('a running container is removed by RemoveContainer (forced, as CRI wants)', async () => {
    const id = await t.container(pod, { metadata: { name: 'rm-running' }, command: ['top'] });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const pid = JSON.parse((await t.c.runtime.containerStatus({ containerId: id, verbose: true })).info.info).pid as number;
    assert.ok(pid > 0);
    await t.c.runtime.removeContainer({ containerId: id });
    await assert.rejects(t.c.runtime.containerStatus({ containerId: id }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    assert.equal(existsSync(`/proc/${pid}`), false);
  });

  test('the log at log_directory/log_path in the CRI format, its dir created; exit reasons', async () => {
    const id = await t.container(pod, { metadata: { name: 'logger' }, command: ['sh', '-c', 'echo hello World; echo oops >&2'], logPath: 'logger/0.log' });
    const s = await t.waitState(id, 'CONTAINER_EXITED');
    assert.equal(s.logPath, join(logDir, 'logger/0.log'));
    assert.equal(s.exitCode ?? 0, 0);
    assert.equal(s.reason, 'Completed');
    const lines = (await readFile(join(logDir, 'logger/0.log'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2);
    // RFC3339Nano SP stream SP P|F SP message
    assert.match(lines.find((l) => l.includes('stdout'))!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) stdout F hello World$/);
    assert.match(lines.find((l) => l.includes('stderr'))!, / stderr F oops$/);
    assert.ok(!Number.isNaN(Date.parse(lines[0].split(' ')[0])));

    const failing = await t.container(pod, { metadata: { name: 'fails' }, command: ['sh', '-c', 'exit 3'] });
    const f = await t.waitState(failing, 'CONTAINER_EXITED');
    assert.equal(f.exitCode, 3);
    assert.equal(f.reason, 'Error');
  });

  test('ReopenContainerLog: the new file exists when the call returns and gets the new lines', async () => {
    const id = await t.container(pod, { metadata: { name: 'reopen' }, command: ['sh', '-c', 'i=0; while true; do echo line$i; i=$((i+1)); sleep 0.1; done'], logPath: 'reopen.log' });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const path = join(logDir, 'reopen.log');
    for (let i = 0; i < 100 && !(existsSync(path) && (await readFile(path, 'utf8')).includes('line1')); i++) await sleep(100);
    await rename(path, `${path}.new`);
    await t.c.runtime.reopenContainerLog({ containerId: id });
    assert.ok(existsSync(path), 'the log path exists once ReopenContainerLog returns');
    let fresh = '';
    for (let i = 0; i < 100 && !/ stdout F line\d+/.test(fresh); i++) {
      await sleep(100);
      fresh = await readFile(path, 'utf8');
    }
    assert.match(fresh, / stdout F line\d+/);
    await t.c.runtime.stopContainer({ containerId: id, timeout: '0' });
    await assert.rejects(t.c.runtime.reopenContainerLog({ containerId: id }), (e: grpc.ServiceError) => e.code === grpc.status.FAILED_PRECONDITION);
  });

  test('ExecSync: output and exit code; the timeout kills the process and answers DEADLINE_EXCEEDED; no Docker events', async () => {
    const id = await t.container(pod, { metadata: { name: 'exec' }, command: ['top'] });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.deepEqual(await exec(id, ['echo', '-n', 'hello']), { stdout: 'hello', stderr: '', exitCode: 0 });
    assert.deepEqual(await exec(id, ['sh', '-c', 'echo -n err >&2; exit 3']), { stdout: '', stderr: 'err', exitCode: 3 });
    await assert.rejects(exec(id, ['sleep', '4321'], 1), (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED);
    // killed, not left running (critest checks with pgrep inside; the host sees the same processes)
    const left = await run('pgrep', ['-f', '^sleep 4321$']).then((r) => r.stdout, () => '');
    assert.equal(left.trim(), '');
    const ps = await exec(id, ['ps', '-o', 'args']);
    assert.ok(!ps.stdout.includes('sleep 4321'), ps.stdout);
    const events = await t.d.dockerOk(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1)]);
    assert.ok(!events.includes(id), `Docker's events show a CRI container: ${events}`);
  });

  test('ContainerStats and ListContainerStats with id and label filters', async () => {
    const a = await t.container(pod, { metadata: { name: 'stats-a' }, command: ['top'], labels: { foo: 'bar' }, annotations: { x: 'y' } });
    const b = await t.container(pod, { metadata: { name: 'stats-b' }, command: ['top'], labels: { foo: 'baz' } });
    await t.waitState(a, 'CONTAINER_RUNNING');
    await t.waitState(b, 'CONTAINER_RUNNING');
    const { stats } = await t.c.runtime.containerStats({ containerId: a });
    assert.equal(stats.attributes.id, a);
    assert.equal(stats.attributes.metadata.name, 'stats-a');
    assert.deepEqual(stats.attributes.labels, { foo: 'bar' });
    assert.deepEqual(stats.attributes.annotations, { x: 'y' });
    assert.ok(BigInt(stats.cpu.timestamp) > 0n);
    assert.ok(BigInt(stats.memory.timestamp) > 0n);
    assert.ok(BigInt(stats.cpu.usageCoreNanoSeconds.value) > 0n);
    assert.ok(BigInt(stats.memory.workingSetBytes.value) > 0n);
    assert.ok(stats.writableLayer.usedBytes);
    const listed = async (filter: unknown) => ((await t.c.runtime.listContainerStats({ filter })).stats ?? []).map((s: { attributes: { id: string } }) => s.attributes.id);
    assert.deepEqual(await listed({ id: a }), [a]);
    const all = await listed(undefined);
    assert.ok(all.includes(a) && all.includes(b));
    const bar = await listed({ labelSelector: { foo: 'bar' } });
    assert.ok(bar.includes(a) && !bar.includes(b));
  });

  test('mounts: a symlinked host path is resolved, a missing one made, propagation echoed and real both ways', async () => {
    const dir = await mkdtemp('/tmp/bt-crimount-');
    // a shared mount, as critest makes one: host-to-container and bidirectional binds need it
    const shared = await mkdtemp('/tmp/bt-crishared-');
    await run('mount', ['--bind', shared, shared]);
    await run('mount', ['--make-rshared', shared]);
    let id = '';
    try {
      await writeFile(join(dir, 'seen'), 'x');
      await symlink(dir, `${dir}-link`);
      const missing = join(`${dir}-missing`, 'here');
      await mkdir(join(shared, 'from-host'));
      await mkdir(join(shared, 'from-ctr'));
      id = await t.container(pod, {
        metadata: { name: 'mounts' },
        command: ['top'],
        mounts: [
          { containerPath: '/data', hostPath: `${dir}-link`, readonly: true },
          { containerPath: '/made', hostPath: missing },
          { containerPath: '/slave', hostPath: shared, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
          { containerPath: '/both', hostPath: shared, propagation: 'PROPAGATION_BIDIRECTIONAL' },
        ],
        linux: { securityContext: { capabilities: { addCapabilities: ['SYS_ADMIN'] } } },
      });
      await t.waitState(id, 'CONTAINER_RUNNING');
      assert.equal((await exec(id, ['ls', '-A', '/data'])).stdout.trim(), 'seen');
      assert.notEqual((await exec(id, ['touch', '/data/new'])).exitCode, 0, 'a readonly mount');
      assert.equal(existsSync(missing), true);
      const s = (await t.c.runtime.containerStatus({ containerId: id, verbose: true })).status;
      assert.deepEqual(
        s.mounts.map((m: Record<string, unknown>) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly ?? false, propagation: m.propagation ?? 'PROPAGATION_PRIVATE' })),
        [
          { containerPath: '/data', hostPath: dir, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
          { containerPath: '/made', hostPath: missing, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
          { containerPath: '/slave', hostPath: shared, readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
          { containerPath: '/both', hostPath: shared, readonly: false, propagation: 'PROPAGATION_BIDIRECTIONAL' },
        ],
      );
      // host -> container
      await run('mount', ['-t', 'tmpfs', 'tmpfs', join(shared, 'from-host')]);
      await writeFile(join(shared, 'from-host', 'f'), 'x');
      assert.equal((await exec(id, ['ls', '/slave/from-host'])).stdout.trim(), 'f');
      // container -> host
      const m = await exec(id, ['mount', '-t', 'tmpfs', 'tmpfs', '/both/from-ctr']);
      assert.equal(m.exitCode, 0, m.stderr);
      assert.equal((await exec(id, ['touch', '/both/from-ctr/g'])).exitCode, 0);
      assert.equal(existsSync(join(shared, 'from-ctr', 'g')), true, 'the container\'s mount reached the host');
      // a slave bind of a path on a private mount would propagate nothing: refused, as containerd does
      await assert.rejects(
        t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'private-slave' }, image: { image: BUSYBOX }, command: ['top'], mounts: [{ containerPath: '/x', hostPath: dir, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }] } }),
        (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /not a shared or slave mount/.test(e.details),
      );
    } finally {
      if (id) await t.c.runtime.removeContainer({ containerId: id });
      await run('umount', ['-R', shared]).catch(() => undefined);
      await rm(shared, { recursive: true, force: true });
      await rm(`${dir}-link`, { force: true });
      await rm(`${dir}-missing`, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a read-only mount is not recursive: a submount under it stays writable (critest\'s non-recursive spec)', async () => {
    const dir = await mkdtemp('/tmp/bt-crirbind-');
    await mkdir(join(dir, 'tmpfs'));
    await run('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'tmpfs')]);
    let id = '';
    try {
      id = await t.container(pod, { metadata: { name: 'ro-nonrec' }, command: ['top'], mounts: [{ containerPath: '/mnt', hostPath: dir, readonly: true }] });
      await t.waitState(id, 'CONTAINER_RUNNING');
      assert.equal((await exec(id, ['touch', '/mnt/tmpfs/file'])).exitCode, 0);
      assert.match((await exec(id, ['touch', '/mnt/file'])).stderr, /Read-only file system/);
    } finally {
      if (id) await t.c.runtime.removeContainer({ containerId: id });
      await run('umount', [join(dir, 'tmpfs')]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the image named by its id', async () => {
    const image = (await t.d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox:latest'])).trim();
    const id = await t.container(pod, { metadata: { name: 'by-id' }, image: { image }, command: ['top'] });
    const s = await t.waitState(id, 'CONTAINER_RUNNING');
    assert.equal(s.imageRef, image);
  });

  test('UpdateContainerResources changes the running container\'s memory limit', async () => {
    const id = await t.container(pod, { metadata: { name: 'update' }, command: ['top'], linux: { resources: { memoryLimitInBytes: String(64 * 1024 * 1024) } } });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const limit = async () => Number((await exec(id, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim());
    assert.equal(await limit(), 64 * 1024 * 1024);
    await t.c.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: String(96 * 1024 * 1024), memorySwapLimitInBytes: String(96 * 1024 * 1024) } });
    assert.equal(await limit(), 96 * 1024 * 1024);
  });

  test('a container over its memory limit exits 137 with reason OOMKilled', async () => {
    const mib15 = String(15 * 1024 * 1024);
    const id = await t.container(pod, {
      metadata: { name: 'oom' },
      command: ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=20M count=1'],
      linux: { resources: { memoryLimitInBytes: mib15, memorySwapLimitInBytes: mib15 } },
    });
    const s = await t.waitState(id, 'CONTAINER_EXITED');
    assert.equal(s.exitCode, 137);
    assert.equal(s.reason, 'OOMKilled');
    // conmon writes an `oom` file in its working directory too: never the daemon's
    assert.equal(existsSync(join(process.cwd(), 'oom')), false);
  });

  test('a daemon restart keeps a running CRI container RUNNING with the same process', async () => {
    const id = await t.container(pod, { metadata: { name: 'survivor' }, command: ['top'] });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const pid = JSON.parse((await t.c.runtime.containerStatus({ containerId: id, verbose: true })).info.info).pid;
    assert.ok(pid > 0);
    t.c.close();
    await t.d.restart();
    t.c = criClient(t.d.criSocket);
    const s = await t.c.runtime.containerStatus({ containerId: id, verbose: true });
    assert.equal(s.status.state, 'CONTAINER_RUNNING');
    assert.equal(JSON.parse(s.info.info).pid, pid);
    assert.equal((await exec(id, ['echo', '-n', 'still'])).stdout, 'still');
  });
});
