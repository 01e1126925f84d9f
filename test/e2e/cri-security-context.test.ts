// CRI containers' security context (issue 12 item 3; critest's Security Context specs that can run
// on this host): users and groups, supplemental groups, capabilities incl. ALL, read-only rootfs,
// masked and read-only paths, seccomp presence rules and localhost profiles, no_new_privs, PID
// namespace modes, and privileged refused outside a privileged pod.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { BUSYBOX, startCriPodDaemon, type CriPodDaemon } from '../fixtures/cri-pod-daemon.js';

const run = promisify(execFile);
const text = (b: unknown) => Buffer.from((b as Buffer | undefined) ?? []).toString('utf8');

describe('CRI security context', () => {
  let t: CriPodDaemon;
  let pod: string;
  let n = 0;
  let profiles: string;

  before(async () => {
    t = await startCriPodDaemon();
    pod = await t.runPod('sec');
    profiles = await mkdtemp('/tmp/bt-seccomp-');
  });

  after(async () => {
    await t?.close();
    await rm(profiles, { recursive: true, force: true });
  });

  /** A running `top` with this security context. */
  async function running(securityContext: Record<string, unknown>, inPod = pod): Promise<string> {
    const id = await t.container(inPod, { metadata: { name: `sc${n++}` }, command: ['top'], linux: { securityContext } });
    await t.waitState(id, 'CONTAINER_RUNNING');
    return id;
  }

  async function exec(id: string, cmd: string[]) {
    const r = await t.c.runtime.execSync({ containerId: id, cmd, timeout: '30' });
    return { stdout: text(r.stdout), stderr: text(r.stderr), exitCode: r.exitCode ?? 0 };
  }

  const hostCapBnd = async () => /^CapBnd:\s*(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1];

  const status = async (id: string, field: string) => {
    const line = (await exec(id, ['grep', `^${field}:`, '/proc/self/status'])).stdout;
    return line.split(':')[1]?.trim();
  };

  test('run as user, username, user:group; a group without a user is refused', async () => {
    assert.equal((await exec(await running({ runAsUser: { value: '1001' } }), ['id', '-u'])).stdout.trim(), '1001');
    const named = await running({ runAsUsername: 'nobody' });
    assert.equal((await exec(named, ['id', '-un'])).stdout.trim(), 'nobody');
    assert.equal((await exec(named, ['id', '-u'])).stdout.trim(), '65534');
    const both = await running({ runAsUser: { value: '1001' }, runAsGroup: { value: '1002' } });
    assert.equal((await exec(both, ['sh', '-c', 'echo $(id -u):$(id -g)'])).stdout.trim(), '1001:1002');
    await assert.rejects(
      t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'group-only' }, image: { image: BUSYBOX }, command: ['top'], linux: { securityContext: { runAsGroup: { value: '1002' } } } } }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /specified without user/.test(e.details),
    );
  });

  test('supplemental groups', async () => {
    const id = await running({ runAsUser: { value: '1001' }, supplementalGroups: ['1234', '5678'] });
    const groups = (await exec(id, ['id', '-G'])).stdout.trim().split(/\s+/);
    assert.ok(groups.includes('1234') && groups.includes('5678'), groups.join(' '));
  });

  test('capabilities: add one, drop NET_RAW (ping fails: no Docker ping sysctl), drop ALL; add ALL where the host allows', async () => {
    const plain = await running({});
    assert.notEqual((await exec(plain, ['brctl', 'addbr', 'foobar'])).exitCode, 0, 'no NET_ADMIN by default');
    const admin = await running({ capabilities: { addCapabilities: ['NET_ADMIN'] } });
    assert.equal((await exec(admin, ['brctl', 'addbr', 'foobar'])).exitCode, 0);
    assert.equal((await exec(admin, ['brctl', 'delbr', 'foobar'])).exitCode, 0);

    const noRaw = await running({ capabilities: { dropCapabilities: ['NET_RAW'] } });
    const ping = await exec(noRaw, ['ping', '-c', '1', '127.0.0.1']);
    assert.notEqual(ping.exitCode, 0);
    assert.match(ping.stderr, /permission denied/i);
    assert.equal((await exec(noRaw, ['cat', '/proc/sys/net/ipv4/ping_group_range'])).stdout.trim().split(/\s+/).join(' '), '1 0');

    assert.equal(await status(await running({ capabilities: { dropCapabilities: ['ALL'] } }), 'CapBnd'), '0000000000000000');

    // ALL is the daemon's own set (containerd's cap.Current): it starts even on this VM, whose
    // bounding set withholds CAP_SYS_RESOURCE
    const all = await running({ capabilities: { addCapabilities: ['ALL'] } });
    assert.equal(await status(all, 'CapBnd'), await hostCapBnd());
  });

  test('read-only rootfs; masked and read-only paths replace the defaults', async () => {
    const ro = await running({ readonlyRootfs: true });
    assert.match((await exec(ro, ['touch', '/file'])).stderr, /Read-only file system/);
    assert.equal((await exec(await running({ readonlyRootfs: false }), ['touch', '/file'])).exitCode, 0);

    // (the fixture's applets are links to one busybox binary, so a file other than critest's /bin/ls)
    const masked = await running({ maskedPaths: ['/etc/group'] });
    assert.equal((await exec(masked, ['cat', '/etc/group'])).stdout, '');
    assert.equal((await exec(masked, ['sh', '-c', 'test -c /etc/group'])).exitCode, 0, 'masked by /dev/null');
    // the defaults are replaced: /proc/kcore is no longer masked
    assert.notEqual((await exec(masked, ['sh', '-c', 'test -c /proc/kcore'])).exitCode, 0);
    const rop = await running({ readonlyPaths: ['/tmp'] });
    assert.match((await exec(rop, ['touch', '/tmp/test'])).stderr, /Read-only file system/);
    // only the listed paths: /proc/sys is no longer a read-only mount of its own
    assert.equal((await exec(rop, ['sh', '-c', 'grep -c " /proc/sys " /proc/self/mountinfo || true'])).stdout.trim(), '0');
    assert.equal((await exec(await running({}), ['sh', '-c', 'grep -c " /proc/sys " /proc/self/mountinfo || true'])).stdout.trim(), '1', 'the defaults without a list');
  });

  test('seccomp: absent = unconfined, {} = runtime default, Unconfined, a Localhost profile', async () => {
    assert.equal(await status(await running({}), 'Seccomp'), '0');
    assert.equal(await status(await running({ seccomp: {} }), 'Seccomp'), '2');
    assert.equal(await status(await running({ seccomp: { profileType: 'Unconfined' } }), 'Seccomp'), '0');
    const file = join(profiles, 'no-chmod.json');
    await writeFile(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' }] }));
    const local = await running({ seccomp: { profileType: 'Localhost', localhostRef: file } });
    assert.equal(await status(local, 'Seccomp'), '2');
    assert.match((await exec(local, ['chmod', '400', '/'])).stderr, /Operation not permitted/);
    await assert.rejects(
      t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'no-profile' }, image: { image: BUSYBOX }, command: ['top'], linux: { securityContext: { seccomp: { profileType: 'Localhost', localhostRef: join(profiles, 'absent.json') } } } } }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
  });

  test('no_new_privs', async () => {
    assert.equal(await status(await running({ noNewPrivs: true }), 'NoNewPrivs'), '1');
    assert.equal(await status(await running({}), 'NoNewPrivs'), '0');
  });

  test('PID namespace: POD shares the pause process\', CONTAINER is its own', async () => {
    const shared = await running({});
    assert.match((await exec(shared, ['cat', '/proc/1/cmdline'])).stdout, /catatonit/);
    const own = await running({ namespaceOptions: { pid: 'CONTAINER' } });
    assert.equal((await exec(own, ['cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim(), 'top');
  });

  test('PID NODE in a host-PID pod sees the host\'s processes', async () => {
    const hostPod = await t.runPod('hostpid', { linux: { securityContext: { namespaceOptions: { pid: 'NODE' } } } });
    const id = await running({ namespaceOptions: { pid: 'NODE' } }, hostPod);
    const inside = (await exec(id, ['cat', '/proc/1/cmdline'])).stdout;
    assert.equal(inside, await readFile('/proc/1/cmdline', 'utf8'));
  });

  test('IPC: NODE sees the host\'s System V segments, POD does not', async () => {
    const made = await run('ipcmk', ['-M', '1048576']);
    const shmid = /(\d+)\s*$/.exec(made.stdout.trim())?.[1];
    assert.ok(shmid, made.stdout);
    try {
      const hostPod = await t.runPod('hostipc', { linux: { securityContext: { namespaceOptions: { ipc: 'NODE' } } } });
      const inHost = await running({ namespaceOptions: { ipc: 'NODE' } }, hostPod);
      const segments = async (id: string) => (await exec(id, ['cat', '/proc/sysvipc/shm'])).stdout.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
      assert.ok((await segments(inHost)).includes(shmid));
      assert.ok(!(await segments(await running({}))).includes(shmid));
    } finally {
      await run('ipcrm', ['-m', shmid]);
    }
  });

  test('privileged: every capability the daemon holds, unconfined (a profile ignored), unmasked', async () => {
    const privPod = await t.runPod('priv', { linux: { securityContext: { privileged: true } } });
    const file = join(profiles, 'no-sethostname.json');
    await writeFile(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO' }] }));
    const id = await running({ privileged: true, seccomp: { profileType: 'Localhost', localhostRef: file } }, privPod);
    assert.equal(await status(id, 'CapBnd'), await hostCapBnd());
    assert.equal(await status(id, 'Seccomp'), '0', 'CRI ignores the profile of a privileged container');
    assert.equal((await exec(id, ['hostname', 'ANewHostName'])).exitCode, 0);
    assert.notEqual((await exec(id, ['sh', '-c', 'test -c /proc/kcore'])).exitCode, 0, 'no masked paths');
    assert.equal((await exec(id, ['brctl', 'addbr', 'foobar'])).exitCode, 0, 'critest\'s "Privileged is true"');
    assert.equal((await exec(id, ['brctl', 'delbr', 'foobar'])).exitCode, 0);
  });

  test('SupplementalGroupsPolicy: Merge adds the image\'s /etc/group memberships, Strict does not; ContainerStatus.user says so', async () => {
    // critest's image: default-user (1000) is a member of group 50000 in the image's /etc/group
    const ctx = await mkdtemp('/tmp/bt-groupimg-');
    try {
      await writeFile(join(ctx, 'Dockerfile'), [
        'FROM busybox:latest',
        "RUN echo 'default-user:x:1000:1000::/home:/bin/sh' >> /etc/passwd && echo 'default-user:x:1000:' >> /etc/group && echo 'group-defined-in-image:x:50000:default-user' >> /etc/group",
        'USER 1000',
        '',
      ].join('\n'));
      await t.d.dockerOk(['build', '-q', '-t', 'berth-test/pre-defined-group:1', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
    const logDir = await mkdtemp('/tmp/bt-podlog-');
    try {
      const logPod = await t.runPod('groups', { logDirectory: logDir });
      for (const [policy, want] of [['Merge', [1000, 1234, 50000]], ['Strict', [1000, 1234]]] as const) {
        const id = await t.container(logPod, {
          metadata: { name: `groups-${policy}` },
          image: { image: 'docker.io/berth-test/pre-defined-group:1' },
          command: ['sh', '-c', 'id -G; sleep 3600'],
          logPath: `${policy}.log`,
          linux: { securityContext: { runAsUser: { value: '1000' }, supplementalGroups: ['1234'], ...(policy === 'Strict' ? { supplementalGroupsPolicy: 'Strict' } : {}) } },
        });
        await t.waitState(id, 'CONTAINER_RUNNING');
        const user = (await t.c.runtime.containerStatus({ containerId: id })).status.user.linux;
        assert.deepEqual({ uid: Number(user.uid), gid: Number(user.gid), groups: user.supplementalGroups.map(Number).sort((a: number, b: number) => a - b) }, { uid: 1000, gid: 1000, groups: [...want] });
        const expected = `${want.join(' ')}\n`;
        let log = '';
        for (let i = 0; i < 100 && !log.includes(' stdout F '); i++) {
          log = await readFile(join(logDir, `${policy}.log`), 'utf8').catch(() => '');
          if (!log.includes(' stdout F ')) await new Promise((r) => setTimeout(r, 100));
        }
        assert.match(log, new RegExp(` stdout F ${want.join(' ')}$`, 'm'), policy);
        assert.equal((await exec(id, ['id', '-G'])).stdout, expected, `exec under ${policy}`);
      }
    } finally {
      await rm(logDir, { recursive: true, force: true });
    }
  });

  test('a privileged container needs a privileged pod', async () => {
    await assert.rejects(
      t.c.runtime.createContainer({ podSandboxId: pod, config: { metadata: { name: 'priv' }, image: { image: BUSYBOX }, command: ['top'], linux: { securityContext: { privileged: true } } } }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /no privileged container allowed in sandbox/.test(e.details),
    );
  });
});
