// docker run options that shape the container (issue 3, item 6), each checked three ways where it
// can be: in `docker inspect`, in the OCI spec berth wrote, and by its effect inside a real
// container. Privileged containers cannot start on a host whose bounding set lacks capabilities:
// there the test asserts the error names what is missing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, type Daemon } from './harness.js';

describe('create options', () => {
  const f = daemonForFile();
  const { name, inspect } = f;
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  /** The config.json runc got for a container. */
  const specOf = async (id: string) => JSON.parse(await readFile(join(d.dataRoot, 'containers', id, 'config.json'), 'utf8'));
  /** One output line per command, from a one-shot container. */
  const run = async (args: string[], script: string) => (await d.dockerOk(['run', '--rm', ...args, 'busybox', 'sh', '-c', script])).split('\n');

  test('--init runs docker-init as PID 1 with the command under it', async () => {
    const n = name('init');
    const id = await d.dockerOk(['run', '-d', '--name', n, '--init', 'busybox', 'sleep', '1000']);
    assert.equal((await inspect(n)).HostConfig.Init, true);
    const spec = await specOf(id);
    assert.deepEqual(spec.process.args, ['/sbin/docker-init', '--', 'sleep', '1000']);
    assert.ok(spec.mounts.some((m: any) => m.destination === '/sbin/docker-init' && m.options.includes('ro')));
    const cmdline = await d.dockerOk(['exec', n, 'sh', '-c', "tr '\\0' ' ' < /proc/1/cmdline"]);
    assert.equal(cmdline.trim(), '/sbin/docker-init -- sleep 1000');
    // the init forwards the stop signal to its child, which dies of it: no 10 s wait for a KILL
    await d.dockerOk(['stop', '-t', '30', n]);
    assert.equal((await inspect(n)).State.ExitCode, 143);
  });

  test('--privileged and --cap-add ALL: running, or a clear error naming the missing capabilities', async () => {
    for (const flags of [['--privileged'], ['--cap-add', 'ALL']]) {
      const r = await d.docker(['run', '--rm', ...flags, 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status']);
      if (r.code === 0) {
        assert.match(r.stdout, /CapEff:\s*0*[13]?f{9,}/);
      } else {
        assert.match(r.stderr, /capability bounding set lacks CAP_[A-Z_]+/);
      }
    }
  });

  test('--cap-add/--cap-drop change the effective set', async () => {
    const [eff] = await run(['--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--cap-drop', 'KILL'], 'grep CapEff /proc/self/status');
    const mask = BigInt(`0x${eff!.split(/\s+/)[1]}`);
    const has = (bit: number) => (mask & (1n << BigInt(bit))) !== 0n;
    assert.equal(has(12), true, 'CAP_NET_ADMIN');
    assert.equal(has(0), false, 'CAP_CHOWN');
    assert.equal(has(5), false, 'CAP_KILL');
    assert.equal(has(1), true, 'CAP_DAC_OVERRIDE stays');
    const bad = await d.docker(['run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown capability: "CAP_NOT_A_CAP"/);
  });

  test('--security-opt: no-new-privileges, seccomp=unconfined, a profile file; bad values are a 400', async () => {
    const lines = await run(['--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=unconfined'], 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status');
    assert.deepEqual(lines.map((l) => l.replace(/\s+/g, ' ')), ['NoNewPrivs: 1', 'Seccomp: 0']);
    const [confined] = await run([], 'grep "^Seccomp:" /proc/self/status');
    assert.match(confined!, /Seccomp:\s+2/);
    const profile = join(d.dataRoot, '..', 'no-mkdir.json');
    await writeFile(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    try {
      const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/x']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Operation not permitted/);
    } finally {
      await rm(profile, { force: true });
    }
    const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['bogus'] } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /Invalid --security-opt: "bogus"/);
  });

  test('--oom-score-adj reaches the process (moby WithOOMScore)', async () => {
    assert.deepEqual(await run(['--oom-score-adj', '500'], 'cat /proc/self/oom_score_adj'), ['500']);
  });

  test('--read-only with --tmpfs, --ulimit, --shm-size', async () => {
    const out = await d.docker([
      'run', '--rm', '--read-only', '--tmpfs', '/run:size=1m,mode=1777', '--ulimit', 'nofile=100:200', '--shm-size', '128m', 'busybox', 'sh', '-c',
      'touch /x 2>&1; touch /run/ok && echo tmpfs-writable; mount | grep " /run "; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1',
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Read-only file system/);
    assert.match(out.stdout, /tmpfs-writable/);
    assert.match(out.stdout, /tmpfs on \/run type tmpfs \(rw,.*size=1024k/);
    assert.match(out.stdout, /\n100\n200\n/);
    assert.match(out.stdout, /shm\s+131072\s/);
    const n = name('ro');
    await d.dockerOk(['create', '--name', n, '--read-only', '--tmpfs', '/run:size=1m', '--ulimit', 'nofile=100:200', '--shm-size', '128m', 'busybox']);
    const hc = (await inspect(n)).HostConfig;
    assert.equal(hc.ReadonlyRootfs, true);
    assert.deepEqual(hc.Tmpfs, { '/run': 'size=1m' });
    assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Hard: 200, Soft: 100 }]);
    assert.equal(hc.ShmSize, 128 * 1024 * 1024);
    const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Tmpfs: { run: '' } } });
    assert.equal(bad.status, 400);
  });

  test('resource flags at create land in the cgroup; --oom-kill-disable too', async () => {
    const n = name('res');
    const id = await d.dockerOk([
      'run', '-d', '--name', n, '--memory', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--cpu-shares', '256',
      '--cpuset-cpus', '0', '--pids-limit', '33', '--oom-kill-disable', 'busybox', 'sleep', '1000',
    ]);
    const hc = (await inspect(n)).HostConfig;
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 128 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 500_000_000);
    assert.equal(hc.PidsLimit, 33);
    assert.equal(hc.OomKillDisable, true);
    const read = (p: string) => readFile(p, 'utf8').then((t) => t.trim());
    const cpuV1 = ['cpu,cpuacct', 'cpu'].map((c) => `/sys/fs/cgroup/${c}/berth/${id}`).find((p) => existsSync(p));
    if (cpuV1) {
      const mem = `/sys/fs/cgroup/memory/berth/${id}`;
      assert.equal(await read(`${mem}/memory.limit_in_bytes`), String(64 * 1024 * 1024));
      if (existsSync(`${mem}/memory.memsw.limit_in_bytes`)) assert.equal(await read(`${mem}/memory.memsw.limit_in_bytes`), String(128 * 1024 * 1024));
      assert.match(await read(`${mem}/memory.oom_control`), /oom_kill_disable 1/);
      assert.equal(Number(await read(`${cpuV1}/cpu.cfs_quota_us`)) / Number(await read(`${cpuV1}/cpu.cfs_period_us`)), 0.5);
      assert.equal(await read(`${cpuV1}/cpu.shares`), '256');
      assert.equal(await read(`/sys/fs/cgroup/cpuset/berth/${id}/cpuset.cpus`), '0');
      assert.equal(await read(`/sys/fs/cgroup/pids/berth/${id}/pids.max`), '33');
    } else {
      const v2 = `/sys/fs/cgroup/berth/${id}`;
      assert.equal(await read(`${v2}/memory.max`), String(64 * 1024 * 1024));
      assert.equal(await read(`${v2}/memory.swap.max`), String(64 * 1024 * 1024));
      assert.equal(await read(`${v2}/pids.max`), '33');
    }
    const bad = await d.docker(['run', '--rm', '--memory', '1k', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
  });

  test('--device puts the node in the container and allows it in the device cgroup', async () => {
    const lines = await run(['--device', '/dev/null:/dev/mynull:rw'], 'ls -l /dev/mynull; echo x > /dev/mynull && echo wrote');
    assert.match(lines[0]!, /^crw-rw-rw-\s.*1,\s+3 .*\/dev\/mynull$/);
    assert.equal(lines[1], 'wrote');
    const n = name('dev');
    const id = await d.dockerOk(['create', '--name', n, '--device', '/dev/zero:/dev/z:r', '--device-cgroup-rule', 'c 1:8 rm', 'busybox']);
    assert.deepEqual((await inspect(n)).HostConfig.Devices, [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'r' }]);
    await d.dockerOk(['start', n]).catch(() => undefined);
    const spec = await specOf(id);
    assert.ok(spec.linux.devices.some((x: any) => x.path === '/dev/z' && x.major === 1 && x.minor === 5));
    assert.ok(spec.linux.resources.devices.some((r: any) => r.allow && r.major === 1 && r.minor === 5 && r.access === 'r'));
    assert.ok(spec.linux.resources.devices.some((r: any) => r.allow && r.major === 1 && r.minor === 8 && r.access === 'rm'));
    const missing = await d.docker(['run', '--rm', '--device', '/dev/no-such-device', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/no-such-device"/);
  });

  test('--sysctl: namespaced ones are set, others refused', async () => {
    const lines = await run(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000'], 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax');
    assert.deepEqual(lines, ['1', '1000000']);
    const host = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } } });
    assert.equal(host.status, 400);
    assert.match(host.json.message, /not allowed in host network namespace/);
    const global = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Sysctls: { 'kernel.panic': '1' } } });
    assert.equal(global.status, 400);
    assert.match(global.json.message, /sysctl "kernel.panic" is not in a separate kernel namespace/);
  });

  test('--hostname, --domainname, --add-host, --dns, --dns-search, --dns-option', async () => {
    const out = await run(
      ['--hostname', 'hh', '--domainname', 'example.test', '--add-host', 'foo:10.9.9.9', '--add-host', 'v6=::1', '--dns', '10.1.2.3', '--dns-search', 'example.com', '--dns-option', 'ndots:2'],
      'hostname; cat /proc/sys/kernel/domainname; cat /etc/hosts /etc/resolv.conf',
    );
    assert.equal(out[0], 'hh');
    assert.equal(out[1], 'example.test');
    assert.ok(out.includes('10.9.9.9\tfoo'));
    assert.ok(out.includes('::1\tv6'));
    assert.ok(out.includes('nameserver 10.1.2.3'));
    assert.ok(out.includes('search example.com'));
    assert.ok(out.includes('options ndots:2'));
    assert.equal(out.filter((l) => l.startsWith('nameserver')).length, 1);
    // host-gateway is the default bridge's gateway (networks-dns.test.ts checks the address)
    const gw = await run(['--add-host', 'h:host-gateway'], 'grep -w h /etc/hosts');
    assert.match(gw[0], /^\d+\.\d+\.\d+\.\d+\th$/);
    const uts = await d.api('POST', '/containers/create', { Image: 'busybox', Hostname: 'x', HostConfig: { UTSMode: 'host' } });
    assert.equal(uts.status, 400);
    assert.match(uts.json.message, /conflicting options: hostname and the UTS mode/);
  });

  test('--ipc/--pid/--uts host and container:NAME', async () => {
    const hostNs = (kind: string) => readlink(`/proc/self/ns/${kind}`);
    const [pidNs, ipcNs, utsNs] = await run(['--pid', 'host', '--ipc', 'host', '--uts', 'host'], 'for k in pid ipc uts; do readlink /proc/self/ns/$k; done');
    assert.equal(pidNs, await hostNs('pid'));
    assert.equal(ipcNs, await hostNs('ipc'));
    assert.equal(utsNs, await hostNs('uts'));

    const donor = name('donor');
    await d.dockerOk(['run', '-d', '--name', donor, '--ipc', 'shareable', 'busybox', 'sleep', '1000']);
    await d.dockerOk(['exec', donor, 'sh', '-c', 'echo from-donor > /dev/shm/f']);
    const donorNs = (await d.dockerOk(['exec', donor, 'sh', '-c', 'for k in ipc pid; do readlink /proc/self/ns/$k; done'])).split('\n');
    const joined = await run(['--ipc', `container:${donor}`, '--pid', `container:${donor}`], 'for k in ipc pid; do readlink /proc/self/ns/$k; done; cat /dev/shm/f; ps -o comm | grep -c sleep');
    assert.deepEqual(joined, [...donorNs, 'from-donor', '1']);

    const plain = name('plain');
    await d.dockerOk(['run', '-d', '--name', plain, 'busybox', 'sleep', '1000']);
    const notShareable = await d.docker(['run', '--rm', '--ipc', `container:${plain}`, 'busybox', 'true']);
    assert.match(notShareable.stderr, /non-shareable IPC/);
    await d.dockerOk(['kill', plain]);
    const stopped = await d.docker(['run', '--rm', '--pid', `container:${plain}`, 'busybox', 'true']);
    assert.match(stopped.stderr, /is not running/);
    const none = await d.docker(['run', '--rm', '--pid', 'container:no-such-ctr', 'busybox', 'true']);
    assert.match(none.stderr, /cannot join PID of a non running container: no-such-ctr/);
    const [noShm] = await run(['--ipc', 'none'], 'test -e /dev/shm && echo has-shm || echo no-shm');
    assert.equal(noShm, 'no-shm');
    // the shareable /dev/shm is a host mount: gone with the container
    await d.dockerOk(['rm', '-f', donor]);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(`${d.dataRoot}/containers/`), false);
  });

  test('--group-add, --stop-signal/--stop-timeout, --label, --env-file', async () => {
    const [ids] = await run(['-u', 'nobody', '--group-add', '123', '--group-add', 'root'], 'id -G');
    assert.deepEqual(ids!.split(' ').sort(), ['0', '123', '65534']);

    const n = name('stopsig');
    await d.dockerOk([
      'run', '-d', '--name', n, '--stop-signal', 'USR1', '--stop-timeout', '30', '--label', 'team=berth',
      'busybox', 'sh', '-c', "trap 'exit 42' USR1; while :; do sleep 0.1; done",
    ]);
    const c = await inspect(n);
    assert.equal(c.Config.StopSignal, 'USR1');
    assert.equal(c.Config.StopTimeout, 30);
    assert.equal(c.Config.Labels.team, 'berth');
    await d.dockerOk(['stop', n]);
    assert.equal((await inspect(n)).State.ExitCode, 42);

    const envFile = join(d.dataRoot, '..', 'env.list');
    await writeFile(envFile, 'ALPHA=1\n# comment\nBETA=two words\n');
    try {
      const out = await d.dockerOk(['run', '--rm', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo "$ALPHA|$BETA"']);
      assert.equal(out, '1|two words');
    } finally {
      await rm(envFile, { force: true });
    }
  });
});
