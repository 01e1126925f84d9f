// CRI pod sandboxes over the gRPC socket (issue 12 items 3, 4, 6): run/status/list/stop/remove
// and their idempotence, the pod files and sysctls inside the infra container, RuntimeClass
// handlers from daemon.json's runtimes, the pod network (pod IP and a 127.0.0.1 hostPort
// reachable from the host, nothing left after stop) and a daemon restart with a pod running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { httpBody, httpBodyWhenUp } from '../fixtures/http-get.js';
import { criClient, type CriClient } from '../fixtures/cri-client.js';
import { buildPauseImage, startCriDaemon } from '../fixtures/cri-pod-daemon.js';
import type { Daemon } from './harness.js';

const run = promisify(execFile);
const PAUSE = 'berth-test/pause:1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

function podConfig(name: string, extra: Record<string, unknown> = {}) {
  return { metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 }, ...extra };
}

describe('CRI pod sandboxes', () => {
  let d: Daemon;
  let c: CriClient;
  const made: string[] = [];

  before(async () => {
    let base: string;
    ({ d, base } = await startCriDaemon({ 'sandbox-image': PAUSE }, { runtimes: { 'runc-alt': { path: 'runc' } } }));
    await buildPauseImage(d, base, PAUSE);
    c = criClient(d.criSocket);
  });

  after(async () => {
    for (const id of made) await c?.runtime.removePodSandbox({ podSandboxId: id }).catch(() => undefined);
    c?.close();
    await d?.cleanup();
  });

  async function runPod(name: string, extra: Record<string, unknown> = {}, handler = ''): Promise<string> {
    const { podSandboxId } = await c.runtime.runPodSandbox({ config: podConfig(name, extra), runtimeHandler: handler });
    made.push(podSandboxId);
    return podSandboxId;
  }

  /** The pod network's id ('' before the first pod): it is the CRI's, apart from Docker's, so not from docker network inspect. */
  function podNetworkId(): string {
    const db = new Database(join(d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT id FROM networks WHERE namespace = 'k8s.io' AND name = 'berth-cri'").get() as { id: string } | undefined)?.id ?? '';
    } finally {
      db.close();
    }
  }

  async function info(id: string): Promise<{ pid: number; infraContainerId: string; runtime: string; netNamespacePath: string }> {
    const s = await c.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
    return JSON.parse(s.info.info);
  }

  test('run, status, list by id, prefix, state and labels; stop; remove; both idempotent', async () => {
    const id = await runPod('basic', { labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } });
    assert.match(id, /^[0-9a-f]{64}$/);
    const s = (await c.runtime.podSandboxStatus({ podSandboxId: id })).status;
    assert.equal(s.id, id);
    assert.equal(s.state ?? 'SANDBOX_READY', 'SANDBOX_READY');
    assert.deepEqual({ ...s.metadata, attempt: s.metadata.attempt ?? 0 }, { name: 'basic', uid: 'uid-basic', namespace: 'default', attempt: 0 });
    assert.deepEqual(s.labels, { app: 'web', tier: 'front' });
    assert.deepEqual(s.annotations, { note: 'x' });
    assert.ok(BigInt(s.createdAt) > 0n);
    assert.match(s.network.ip, /^\d+\.\d+\.\d+\.\d+$/);

    const ids = async (filter: unknown) => ((await c.runtime.listPodSandbox({ filter })).items ?? []).map((p: { id: string }) => p.id);
    assert.deepEqual(await ids({ id }), [id]);
    assert.deepEqual(await ids({ id: id.slice(0, 12) }), [id]);
    assert.ok((await ids({ labelSelector: { app: 'web' } })).includes(id));
    assert.ok(!(await ids({ labelSelector: { app: 'web', tier: 'back' } })).includes(id));
    assert.ok((await ids({ state: { state: 'SANDBOX_READY' } })).includes(id));
    assert.ok(!(await ids({ state: { state: 'SANDBOX_NOTREADY' } })).includes(id));
    // the infra container stays out of Docker's view, its pod network's Containers included
    const infraId = (await info(id)).infraContainerId;
    assert.ok(!(await d.dockerOk(['ps', '-a', '--no-trunc', '-q'])).includes(infraId));
    // the pod network is the CRI's (namespace k8s.io): Docker's inspect does not find it (cri-apart.test.ts checks the rest)
    assert.equal((await d.docker(['network', 'inspect', 'berth-cri'])).code, 1);

    await c.runtime.stopPodSandbox({ podSandboxId: id });
    assert.equal((await c.runtime.podSandboxStatus({ podSandboxId: id })).status.state, 'SANDBOX_NOTREADY');
    assert.deepEqual(await ids({ id, state: { state: 'SANDBOX_NOTREADY' } }), [id]);
    await c.runtime.stopPodSandbox({ podSandboxId: id });
    await c.runtime.removePodSandbox({ podSandboxId: id });
    await c.runtime.removePodSandbox({ podSandboxId: id });
    assert.deepEqual(await ids({ id }), []);
    await assert.rejects(c.runtime.podSandboxStatus({ podSandboxId: id }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    // unknown ids are fine for stop and remove, as critest's idempotence specs want
    await c.runtime.stopPodSandbox({ podSandboxId: 'f'.repeat(64) });
    await c.runtime.removePodSandbox({ podSandboxId: 'f'.repeat(64) });
    assert.equal(existsSync(join(d.dataRoot, 'pods', id)), false);
  });

  test('a second RunPodSandbox with the same metadata is refused', async () => {
    await runPod('twice');
    await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('twice') }), (e: grpc.ServiceError) => e.code === grpc.status.ALREADY_EXISTS && /reserve sandbox name/.test(e.details));
  });

  test('hostname, resolv.conf from dns_config and pod sysctls inside the infra container', async () => {
    const id = await runPod('files', {
      hostname: 'test-hostname',
      dnsConfig: { servers: ['10.10.10.10'], searches: ['google.com'], options: ['ndots:8'] },
      linux: { sysctls: { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_local_port_range': '20000 30000' } },
    });
    const infra = (await info(id)).infraContainerId;
    const exec = (cmd: string) => d.dockerOk(['exec', infra, 'sh', '-c', cmd]);
    assert.equal(await exec('hostname'), 'test-hostname');
    assert.equal(await exec('cat /etc/resolv.conf'), 'search google.com\nnameserver 10.10.10.10\noptions ndots:8');
    assert.equal(await exec('cat /proc/sys/kernel/shm_rmid_forced'), '1');
    assert.equal((await exec('cat /proc/sys/net/ipv4/ip_local_port_range')).replace(/\s+/g, ' '), '20000 30000');
    assert.match(await exec('mount | grep " /dev/shm "'), /tmpfs/);
    // containerd's -998 only where the daemon may lower a score (CAP_SYS_RESOURCE); never below its own
    const { pid } = await info(id);
    const own = Number((await readFile(`/proc/${d.pid}/oom_score_adj`, 'utf8')).trim());
    const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile(`/proc/${d.pid}/status`, 'utf8'))![1]}`);
    const expected = (capEff & (1n << 24n)) !== 0n ? -998 : Math.max(-998, own);
    assert.equal(Number((await readFile(`/proc/${pid}/oom_score_adj`, 'utf8')).trim()), expected);
  });

  test('RuntimeClass: runtime_handler picks a daemon.json runtime; an unknown one is INVALID_ARGUMENT and leaves nothing', async () => {
    const id = await runPod('alt', {}, 'runc-alt');
    const i = await info(id);
    assert.equal(i.runtime, 'runc-alt');
    assert.equal((await c.runtime.podSandboxStatus({ podSandboxId: id })).status.runtimeHandler, 'runc-alt');
    assert.equal(await d.dockerOk(['inspect', '-f', '{{.HostConfig.Runtime}}', i.infraContainerId]), 'runc-alt');
    const before = (await c.runtime.listPodSandbox({})).items?.length ?? 0;
    await assert.rejects(
      c.runtime.runPodSandbox({ config: podConfig('nope'), runtimeHandler: 'nope' }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /no runtime for "nope" is configured/.test(e.details),
    );
    assert.equal((await c.runtime.listPodSandbox({})).items?.length ?? 0, before);
  });

  test('pod network: the pod IP and a 127.0.0.1 hostPort reach a server in the pod; stop tears it all down', async () => {
    const vethsOnPodBridge = async () => {
      const netId = podNetworkId();
      const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string; master?: string }[];
      return links.filter((l) => netId && l.master === `br-${netId.slice(0, 12)}` && !/^ba[0-9a-f]{10}$/.test(l.ifname)).map((l) => l.ifname).sort();
    };
    const vethsBefore = await vethsOnPodBridge();
    const hostPort = await freePort();
    // and one on every address (critest's hostPort spec), reached at 127.0.0.1 too
    const anyPort = await freePort();
    const id = await runPod('web', { portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort, hostIp: '127.0.0.1' }, { containerPort: 8080, hostPort: anyPort }] });
    const ip = (await c.runtime.podSandboxStatus({ podSandboxId: id })).status.network.ip;
    const { infraContainerId: infra, netNamespacePath } = await info(id);
    assert.ok(existsSync(netNamespacePath));
    await d.dockerOk(['exec', infra, 'sh', '-c', 'mkdir -p /www && echo pod-says-hi > /www/index.html && httpd -p 8080 -h /www']);
    assert.equal(await httpBodyWhenUp(ip, 8080, '/index.html'), 'pod-says-hi\n');
    assert.equal(await httpBodyWhenUp('127.0.0.1', hostPort, '/index.html'), 'pod-says-hi\n');
    assert.equal(await httpBodyWhenUp('127.0.0.1', anyPort, '/index.html'), 'pod-says-hi\n');

    await c.runtime.stopPodSandbox({ podSandboxId: id });
    assert.equal(existsSync(netNamespacePath), false, 'the pod netns is gone');
    const nat = (await run('iptables', ['-w', '-t', 'nat', '-S'])).stdout;
    assert.ok(!nat.includes(`--dport ${hostPort} `), 'no DNAT rule for the host port');
    assert.ok(!nat.includes(`${ip}:8080`), 'no rule for the pod address');
    assert.deepEqual(await vethsOnPodBridge(), vethsBefore, 'the pod veth is gone from the pod bridge');
    assert.equal(await httpBody('127.0.0.1', hostPort, '/index.html'), undefined);
  });

  test('a RunPodSandbox that fails (its hostPort is taken) leaves no pod, container, files or rules', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as { port: number }).port;
    const count = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).length;
    const before = { pods: await count(join(d.dataRoot, 'pods')), containers: await count(join(d.dataRoot, 'containers')), netns: await count(join(d.execRoot, 'netns')) };
    try {
      await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('taken', { portMappings: [{ containerPort: 80, hostPort: port, hostIp: '127.0.0.1' }] }) }), /already allocated|address already in use/i);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
    assert.deepEqual((await c.runtime.listPodSandbox({ filter: { labelSelector: {} } })).items?.filter((p: { metadata: { name: string } }) => p.metadata.name === 'taken') ?? [], []);
    assert.deepEqual({ pods: await count(join(d.dataRoot, 'pods')), containers: await count(join(d.dataRoot, 'containers')), netns: await count(join(d.execRoot, 'netns')) }, before);
    assert.ok(!(await run('iptables', ['-w', '-t', 'nat', '-S'])).stdout.includes(`--dport ${port} `));
    // and the name is free again
    await runPod('taken');
  });

  test('a host-network pod: no netns or pod IP of its own, the host hostname, ipc and pid of the host', async () => {
    const id = await runPod('hostnet', { linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } });
    const s = (await c.runtime.podSandboxStatus({ podSandboxId: id })).status;
    assert.equal(s.state ?? 'SANDBOX_READY', 'SANDBOX_READY');
    assert.equal(s.network?.ip ?? '', '');
    assert.deepEqual(s.linux.namespaces.options, { network: 'NODE', pid: 'NODE', ipc: 'NODE' });
    const i = await info(id);
    assert.equal(i.netNamespacePath, '');
    assert.equal(await d.dockerOk(['exec', i.infraContainerId, 'hostname']), hostname());
    const hostNetNs = await readlink('/proc/self/ns/net');
    assert.equal(await readlink(`/proc/${i.pid}/ns/net`), hostNetNs);
    assert.equal(await readlink(`/proc/${i.pid}/ns/pid`), await readlink('/proc/self/ns/pid'));
  });

  test('a CRI container shares the pod: hostname, DNS, network (a server in it reachable at the pod IP); stop and remove take it too', async () => {
    const config = podConfig('withctr', { hostname: 'pod-host', dnsConfig: { servers: ['10.9.9.9'] } });
    const { podSandboxId: id } = await c.runtime.runPodSandbox({ config });
    made.push(id);
    const { containerId } = await c.runtime.createContainer({
      podSandboxId: id,
      config: {
        metadata: { name: 'web' },
        image: { image: 'docker.io/library/busybox:latest' },
        command: ['sh', '-c', 'mkdir -p /www && echo from-ctr > /www/index.html && exec httpd -f -p 8081 -h /www'],
      },
      sandboxConfig: config,
    });
    await c.runtime.startContainer({ containerId });
    const execOut = async (cmd: string[]) => Buffer.from((await c.runtime.execSync({ containerId, cmd, timeout: '10' })).stdout ?? '').toString();
    assert.equal((await execOut(['hostname'])).trim(), 'pod-host');
    assert.equal(await execOut(['cat', '/etc/resolv.conf']), 'nameserver 10.9.9.9\n');
    const ip = (await c.runtime.podSandboxStatus({ podSandboxId: id })).status.network.ip;
    assert.match(await execOut(['ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    assert.equal(await httpBodyWhenUp(ip, 8081, '/index.html'), 'from-ctr\n');

    await c.runtime.stopPodSandbox({ podSandboxId: id });
    assert.equal((await c.runtime.containerStatus({ containerId })).status.state, 'CONTAINER_EXITED');
    await c.runtime.removePodSandbox({ podSandboxId: id });
    assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: id } })).containers ?? [], []);
    await assert.rejects(c.runtime.containerStatus({ containerId }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  });

  test('PodSandboxStats and ListPodSandboxStats: the pod cgroups summed, its network counters, its containers', async () => {
    const config = podConfig('stats', { labels: { stats: 'yes' } });
    const { podSandboxId: id } = await c.runtime.runPodSandbox({ config });
    made.push(id);
    const { containerId } = await c.runtime.createContainer({
      podSandboxId: id,
      config: { metadata: { name: 'busy' }, image: { image: 'docker.io/library/busybox:latest' }, command: ['sleep', '3600'] },
      sandboxConfig: config,
    });
    await c.runtime.startContainer({ containerId });
    const { stats } = await c.runtime.podSandboxStats({ podSandboxId: id });
    assert.equal(stats.attributes.id, id);
    assert.equal(stats.attributes.metadata.name, 'stats');
    assert.ok(BigInt(stats.linux.cpu.usageCoreNanoSeconds.value) > 0n);
    assert.ok(BigInt(stats.linux.memory.workingSetBytes?.value ?? '0') >= 0n);
    assert.equal(stats.linux.network.defaultInterface.name, 'eth0');
    assert.deepEqual(stats.linux.containers.map((s: { attributes: { id: string } }) => s.attributes.id), [containerId]);
    const listed = async (labelSelector: Record<string, string>) => ((await c.runtime.listPodSandboxStats({ filter: { labelSelector } })).stats ?? []).map((s: { attributes: { id: string } }) => s.attributes.id);
    assert.deepEqual(await listed({ stats: 'yes' }), [id]);
    assert.deepEqual(await listed({ stats: 'no' }), []);
    await c.runtime.stopPodSandbox({ podSandboxId: id });
    await assert.rejects(c.runtime.podSandboxStats({ podSandboxId: id }), (e: grpc.ServiceError) => e.code === grpc.status.FAILED_PRECONDITION);
    assert.deepEqual(await listed({ stats: 'yes' }), []);
  });

  for (const point of ['pod.after-row', 'pod.after-infra-create', 'pod.after-infra-start']) {
    test(`a RunPodSandbox cut short by the daemon's death (${point}) is undone at the next start`, async () => {
      const count = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).length;
      const snapshot = async () => ({ pods: await count(join(d.dataRoot, 'pods')), containers: await count(join(d.dataRoot, 'containers')), netns: await count(join(d.execRoot, 'netns')) });
      const before = await snapshot();
      c.close();
      await d.stop();
      d.env.BERTH_FAULT = point;
      await d.start();
      c = criClient(d.criSocket);
      await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('cut') }));
      await d.waitExit();
      delete d.env.BERTH_FAULT;
      c.close();
      await d.start();
      c = criClient(d.criSocket);
      const items = (await c.runtime.listPodSandbox({})).items ?? [];
      assert.deepEqual(items.filter((p: { metadata: { name: string } }) => p.metadata.name === 'cut'), []);
      assert.deepEqual(await snapshot(), before);
      // the name is free for kubelet's retry
      const id = await runPod('cut');
      assert.equal((await c.runtime.podSandboxStatus({ podSandboxId: id })).status.state ?? 'SANDBOX_READY', 'SANDBOX_READY');
      await c.runtime.removePodSandbox({ podSandboxId: id });
    });
  }

  test('a daemon restart keeps a running pod READY with the same infra process', async () => {
    const id = await runPod('survivor');
    const { pid, infraContainerId } = await info(id);
    assert.ok(pid > 0);
    c.close();
    await d.restart();
    c = criClient(d.criSocket);
    const s = await c.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
    assert.equal(s.status.state ?? 'SANDBOX_READY', 'SANDBOX_READY');
    assert.equal(JSON.parse(s.info.info).pid, pid);
    // and one whose infra died meanwhile is NOTREADY
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      if ((await c.runtime.podSandboxStatus({ podSandboxId: id })).status.state === 'SANDBOX_NOTREADY') break;
      await sleep(100);
    }
    assert.equal((await c.runtime.podSandboxStatus({ podSandboxId: id })).status.state, 'SANDBOX_NOTREADY');
    // its network was torn down by the new daemon: the endpoint survived the restart
    const netId = podNetworkId();
    const names = await readFile(join(d.execRoot, 'netavark', 'aardvark-dns', netId), 'utf8').catch(() => '');
    assert.ok(!names.includes(infraContainerId), names);
  });
});
