// CRI objects are kept apart from the Docker API's views (issue 12 item 3), as containerd keeps
// `k8s.io` apart from `moby`: with a pod running a server and a stopped container, no Docker list,
// filter, lookup, count or event shows them or the pod network; Docker's prunes and rm leave the
// pod working; a Docker user's network with the pod network's label or name is an ordinary one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { httpBodyWhenUp } from '../fixtures/http-get.js';
import { criClient } from '../fixtures/cri-client.js';
import { sleep, startCriPodDaemon, type CriPodDaemon } from '../fixtures/cri-pod-daemon.js';

const LABEL = 'io.berth.cri.pod-network';

function inSubnet(ip: string, cidr: string): boolean {
  const n = (a: string) => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

describe('CRI objects apart from the Docker API', () => {
  let t: CriPodDaemon;
  let pod: string;
  let infra: string;
  let web: string;
  let done: string;
  let podIp: string;
  let netId: string;
  let since: number;
  /** Every CRI id (pod, containers, pod network) and name that must not show in a Docker view. */
  let hidden: string[];

  before(async () => {
    t = await startCriPodDaemon();
    since = Math.floor(Date.now() / 1000) - 1;
    pod = await t.runPod('apart');
    const s = await t.c.runtime.podSandboxStatus({ podSandboxId: pod, verbose: true });
    infra = JSON.parse(s.info.info).infraContainerId;
    podIp = s.status.network.ip;
    web = await t.container(pod, { metadata: { name: 'web' }, command: ['sh', '-c', 'echo -n apart > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'] });
    done = await t.container(pod, { metadata: { name: 'done' }, command: ['true'] });
    await t.waitState(done, 'CONTAINER_EXITED');
    await t.waitState(web, 'CONTAINER_RUNNING');
    const r = await t.c.runtime.execSync({ containerId: web, cmd: ['true'], timeout: '0' });
    assert.equal(r.exitCode ?? 0, 0);
    const db = new Database(join(t.d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
    try {
      netId = (db.prepare("SELECT id FROM networks WHERE namespace = 'k8s.io' AND name = 'berth-cri'").get() as { id: string }).id;
    } finally {
      db.close();
    }
    hidden = [pod, infra, web, done, netId].flatMap((id) => [id, id.slice(0, 12)]).concat(['berth-cri', 'k8s_']);
  });

  after(async () => {
    await t?.close();
  });

  function assertNothingOf(what: string, out: string, of = hidden): void {
    for (const h of of) assert.ok(!out.includes(h), `${what} shows ${h}:\n${out}`);
  }

  /** The pod still serves at its IP and its running container is still RUNNING. */
  async function podWorks(): Promise<void> {
    assert.equal(await httpBodyWhenUp(podIp, 8080, '/index.html'), 'apart');
    assert.equal((await t.c.runtime.containerStatus({ containerId: web })).status.state, 'CONTAINER_RUNNING');
    assert.equal((await t.c.runtime.containerStatus({ containerId: done })).status.state, 'CONTAINER_EXITED');
  }

  test('the pod serves at its IP', async () => {
    assert.match(podIp, /^\d+\.\d+\.\d+\.\d+$/);
    await podWorks();
  });

  test('container lists, filters, counts, df and stats show no CRI container', async () => {
    const mine = await t.d.dockerOk(['create', '--name', 'docker-own', 'busybox', 'true']);
    assert.equal(await t.d.dockerOk(['ps', '-a', '-q', '--no-trunc']), mine);
    for (const filter of ['ancestor=busybox', 'network=berth-cri', `network=${netId}`, 'status=exited', 'status=running', 'label=io.kubernetes.pod.name', 'name=k8s_', `id=${web.slice(0, 12)}`]) {
      const out = await t.d.dockerOk(['ps', '-a', '--no-trunc', '--filter', filter, '--format', '{{.ID}} {{.Names}} {{.Networks}}']);
      assertNothingOf(`docker ps -a --filter ${filter}`, out);
    }
    assert.match(await t.d.dockerOk(['ps', '-a', '--no-trunc', '--filter', 'ancestor=busybox', '-q']), new RegExp(mine));
    const raw = await t.d.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ network: ['berth-cri'] }))}`);
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, []);
    for (const ref of [web.slice(0, 12), infra.slice(0, 12)]) {
      assert.equal((await t.d.api('GET', `/containers/${ref}/json`)).status, 404);
    }
    assert.equal(await t.d.dockerOk(['info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}}']), '1 0 1');
    assertNothingOf('docker system df -v', await t.d.dockerOk(['system', 'df', '-v']));
    assert.match(await t.d.dockerOk(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']), /^Containers 1$/m);
    assertNothingOf('docker stats', await t.d.dockerOk(['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}} {{.Name}}']));
    await t.d.dockerOk(['rm', mine]);
  });

  test('the pod network is not listed, found, connected to or removed by the Docker API', async () => {
    const ls = await t.d.dockerOk(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Labels}}']);
    assertNothingOf('docker network ls', ls);
    assert.match(ls, / bridge /);
    assertNothingOf('docker network ls --filter label', await t.d.dockerOk(['network', 'ls', '--filter', `label=${LABEL}`]));
    for (const ref of ['berth-cri', netId, netId.slice(0, 12)]) {
      const r = await t.d.docker(['network', 'inspect', ref]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`network ${ref} not found|No such network: ${ref}`));
      assert.equal((await t.d.api('GET', `/networks/${ref}`)).status, 404);
      const rm = await t.d.docker(['network', 'rm', ref]);
      assert.notEqual(rm.code, 0);
      assert.match(rm.stderr, /not found/);
    }
    const mine = await t.d.dockerOk(['create', '--name', 'docker-conn', 'busybox', 'true']);
    const conn = await t.d.docker(['network', 'connect', 'berth-cri', mine]);
    assert.notEqual(conn.code, 0);
    assert.match(conn.stderr, /network berth-cri not found/);
    // a CRI container is no container to Docker's connect and disconnect, even by its full ID
    for (const args of [['connect', 'bridge', infra], ['disconnect', netId, infra], ['disconnect', 'bridge', web]]) {
      const r = await t.d.docker(['network', ...args]);
      assert.notEqual(r.code, 0, `docker network ${args.join(' ')} succeeded`);
    }
    await t.d.dockerOk(['rm', mine]);
    // (raw: the CLI takes any 404 of a create for a missing image and tries to pull it)
    const made = await t.d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'berth-cri' } });
    assert.equal(made.status, 404);
    assert.match(made.text, /network berth-cri not found/);
    assert.equal(await t.d.dockerOk(['ps', '-a', '-q']), '');
    await podWorks();
  });

  test('Docker\'s prunes leave the pod, its stopped container and the pod network alone', async () => {
    const mine = await t.d.dockerOk(['create', 'busybox', 'true']);
    const pruned = await t.d.dockerOk(['container', 'prune', '-f']);
    assert.match(pruned, new RegExp(mine));
    assertNothingOf('docker container prune', pruned);
    assertNothingOf('docker network prune', await t.d.dockerOk(['network', 'prune', '-f']));
    assertNothingOf('docker volume prune', await t.d.dockerOk(['volume', 'prune', '-a', '-f']));
    // the images the pod's containers use count as used (their infra's pause image, busybox)
    const images = async () => (await t.d.dockerOk(['images', '--no-trunc', '-q'])).split('\n').sort().join(' ');
    const before = await images();
    assertNothingOf('docker system prune -a', await t.d.dockerOk(['system', 'prune', '-a', '-f']));
    assert.equal(await images(), before);
    await podWorks();
    // a new pod still finds the pod network
    const second = await t.runPod('apart-2');
    assert.match((await t.c.runtime.podSandboxStatus({ podSandboxId: second })).status.network.ip, /^\d+\.\d+\.\d+\.\d+$/);
    await t.c.runtime.stopPodSandbox({ podSandboxId: second });
    await t.c.runtime.removePodSandbox({ podSandboxId: second });
  });

  test('rmi of the image a CRI container uses is a conflict', async () => {
    const image = await t.d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox:latest']);
    const r = await t.d.docker(['rmi', image]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflict|being used|in use/i);
    await podWorks();
  });

  test('a Docker user\'s network with the pod network\'s label, or its name, is an ordinary network', async () => {
    await t.d.dockerOk(['network', 'create', '--label', `${LABEL}=true`, 'lookalike']);
    await t.d.dockerOk(['network', 'create', 'berth-cri']);
    const ls = await t.d.dockerOk(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}']);
    assert.match(ls, / lookalike$/m);
    assert.match(ls, / berth-cri$/m);
    assert.ok(!ls.includes(netId), ls);
    assert.match(await t.d.dockerOk(['network', 'ls', '--filter', `label=${LABEL}`, '--format', '{{.Name}}']), /^lookalike$/);
    const own = JSON.parse(await t.d.dockerOk(['network', 'inspect', 'berth-cri']))[0];
    assert.notEqual(own.Id, netId);
    const subnet = own.IPAM.Config[0].Subnet as string;
    assert.ok(!inSubnet(podIp, subnet), `${subnet} holds the pod IP ${podIp}`);
    // a Docker container on Docker's berth-cri is on that one, not the pod's
    const out = await t.d.dockerOk(['run', '--rm', '--network', 'berth-cri', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0']);
    const addr = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? '';
    assert.ok(inSubnet(addr, subnet), out);
    await t.d.dockerOk(['network', 'rm', 'lookalike', 'berth-cri']);
    await podWorks();
  });

  test('an image VOLUME of a CRI container is its own dir, filled from the image, not a Docker volume', async () => {
    const ctx = join(t.base, 'vol-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox:latest\nRUN mkdir /data && echo seeded > /data/f\nVOLUME /data\n');
    await t.d.dockerOk(['build', '-q', '-t', 'berth-test/vol:1', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    const vols = await t.d.dockerOk(['volume', 'ls', '-q']);
    // a read-only rootfs still writes there, as it would to containerd's image volume
    const id = await t.container(pod, { metadata: { name: 'vol' }, image: { image: 'berth-test/vol:1' }, command: ['top'], linux: { securityContext: { readonlyRootfs: true } } });
    await t.waitState(id, 'CONTAINER_RUNNING');
    const exec = async (cmd: string) => {
      const r = await t.c.runtime.execSync({ containerId: id, cmd: ['sh', '-c', cmd], timeout: '0' });
      return { out: Buffer.from(r.stdout ?? []).toString('utf8') + Buffer.from(r.stderr ?? []).toString('utf8'), code: r.exitCode ?? 0 };
    };
    assert.deepEqual(await exec('cat /data/f'), { out: 'seeded\n', code: 0 });
    assert.equal((await exec('echo more >> /data/f && grep -c . /data/f')).out, '2\n');
    assert.notEqual((await exec('touch /elsewhere')).code, 0, 'the rootfs is read-only');
    assert.equal(await t.d.dockerOk(['volume', 'ls', '-q']), vols);
    await t.c.runtime.stopContainer({ containerId: id, timeout: '0' });
    await t.c.runtime.removeContainer({ containerId: id });
    assert.equal(existsSync(join(t.d.dataRoot, 'containers', id)), false);
    assert.equal(await t.d.dockerOk(['volume', 'ls', '-q']), vols);
    await t.d.dockerOk(['rmi', 'berth-test/vol:1']);
  });

  test('the events over the run (a restart forgets them) show nothing of the CRI\'s objects', async () => {
    const until = Math.ceil(Date.now() / 1000) + 1;
    const events = await t.d.dockerOk(['events', '--since', String(since), '--until', String(until), '--format', '{{json .}}']);
    // (Docker's own berth-cri network of the test above is in them: only the CRI's ids are looked for)
    assertNothingOf('docker events', events, hidden.filter((h) => h !== 'berth-cri'));
    // the Docker containers and networks the tests made are there: the stream itself works
    assert.match(events, /"lookalike"/);
    assert.match(events, /docker-own/);
  });

  test('a daemon restart keeps the pod network apart and the pod working', async () => {
    t.c.close();
    await t.d.restart();
    t.c = criClient(t.d.criSocket);
    assertNothingOf('docker network ls after a restart', await t.d.dockerOk(['network', 'ls', '--no-trunc']));
    assert.equal((await t.d.api('GET', '/networks/berth-cri')).status, 404);
    await podWorks();
  });
});
