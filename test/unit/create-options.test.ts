// HostConfig -> spec fields (hostSpecOptions), the create-time checks (validateHostOptions).
// Pure functions: no daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../src/engine/containers/model.js';
import {
  hostSpecOptions,
  parseDeviceCgroupRule,
  parseExtraHost,
  validateHostOptions,
  type StartFacts,
} from '../../src/engine/containers/create-options.js';
import { InvalidParameterError } from '../../src/errors.js';
import { cpus } from 'node:os';
import { buildSpec, type SpecInput } from '../../src/runtime/oci-spec.js';
import { hostConfigOf } from '../fixtures/host-config.js';

const hc = (extra: Record<string, unknown> = {}): HostConfig => hostConfigOf({ NetworkMode: 'none', ...extra });

const noFacts: StartFacts = { devices: [] };

const specFor = (h: HostConfig, facts: StartFacts = noFacts) => {
  const input: SpecInput = {
    rootfs: '/r',
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    terminal: false,
    hostname: 'h',
    network: { mode: 'none' },
    etcFiles: {},
    cgroupsPath: '/berth/x',
    ...hostSpecOptions(h, ['sleep', '1'], [], facts),
  };
  return buildSpec(input);
};

test('--init wraps the command and mounts the init read-only', () => {
  const spec = specFor(hc({ Init: true }), { devices: [], initPath: '/usr/bin/tini-static' });
  assert.deepEqual(spec.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
  const m = spec.mounts.find((x) => x.destination === '/sbin/docker-init');
  assert.equal(m?.source, '/usr/bin/tini-static');
  assert.ok(m?.options?.includes('ro'));
  assert.deepEqual(specFor(hc({ Init: false })).process.args, ['sleep', '1']);
});

test('tmpfs, ulimits, shm size and sysctls reach the spec', () => {
  const spec = specFor(hc({ Tmpfs: { '/run': 'size=1m' }, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], ShmSize: 1 << 27, Sysctls: { 'kernel.shmmax': '5' } }));
  assert.ok(spec.mounts.some((m) => m.destination === '/run' && m.type === 'tmpfs' && m.options?.includes('size=1m')));
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]);
  assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes(`size=${1 << 27}`));
  assert.equal(spec.linux.sysctl?.['kernel.shmmax'], '5');
});

test('namespaces: host modes drop the namespace, container modes join the donor, ipc none has no /dev/shm', () => {
  const host = specFor(hc({ IpcMode: 'host', PidMode: 'host', UTSMode: 'host' }));
  const types = (host.linux.namespaces ?? []).map((n) => n.type);
  for (const t of ['ipc', 'pid', 'uts']) assert.equal(types.includes(t), false, t);
  assert.equal(host.mounts.find((m) => m.destination === '/dev/shm')?.source, '/dev/shm');
  const joined = specFor(hc({ IpcMode: 'container:a', PidMode: 'container:a' }), { devices: [], ipcDonorPid: 42, pidDonorPid: 42, shm: '/b/shm' });
  assert.deepEqual(
    (joined.linux.namespaces ?? []).filter((n) => n.type === 'ipc' || n.type === 'pid'),
    [{ type: 'pid', path: '/proc/42/ns/pid' }, { type: 'ipc', path: '/proc/42/ns/ipc' }],
  );
  assert.equal(joined.mounts.find((m) => m.destination === '/dev/shm')?.source, '/b/shm');
  assert.equal(specFor(hc({ IpcMode: 'none' })).mounts.some((m) => m.destination === '/dev/shm'), false);
});

test('devices get a node and a cgroup rule; --device-cgroup-rule is parsed like runc', () => {
  const device = { type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 };
  const spec = specFor(hc({ DeviceCgroupRules: ['c 10:* rm'] }), { devices: [{ device, access: 'rw' }] });
  assert.deepEqual(spec.linux.devices, [device]);
  const host = { type: 'c', path: '/dev/kmsg', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 };
  assert.deepEqual(specFor(hc(), { devices: [{ device, access: 'rw' }], hostDevices: [host] }).linux.devices, [host, device]);
  const rules = spec.linux.resources?.devices as { allow: boolean; major?: number; minor?: number; access: string }[];
  assert.deepEqual(rules.at(-2), { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' });
  assert.deepEqual(rules.at(-1), { allow: true, type: 'c', major: 10, minor: undefined, access: 'rm' });
  assert.deepEqual(parseDeviceCgroupRule('a'), { allow: true, type: 'a', access: 'rwm' });
  assert.throws(() => parseDeviceCgroupRule('x 1:2 r'), /invalid device cgroup format/);
});

test('add-host entries: name:ip, name=ip, IPv6, host-gateway; bad addresses refused', () => {
  assert.deepEqual(parseExtraHost('foo:10.0.0.1'), { name: 'foo', ip: '10.0.0.1' });
  assert.deepEqual(parseExtraHost('foo=::1'), { name: 'foo', ip: '::1' });
  assert.deepEqual(parseExtraHost('foo:fe80::1'), { name: 'foo', ip: 'fe80::1' });
  assert.deepEqual(parseExtraHost('foo=[::1]'), { name: 'foo', ip: '::1' });
  assert.throws(() => parseExtraHost('foo:999.1.1.1'), /invalid IP address in add-host/);
  assert.throws(() => parseExtraHost('noaddress'), /^InvalidParameterError: bad format for add-host: "noaddress"$|bad format for add-host: "noaddress"/);
  assert.throws(() => parseExtraHost('foo:'), (e: Error) => e.message === 'invalid IP address in add-host: ""');
  // host-gateway is accepted at create: start maps it to the default bridge's gateway
  validateHostOptions(hc({ ExtraHosts: ['h:host-gateway'] }), { Hostname: '' });
});

test('create-time checks: sysctls by namespace, modes, ulimits, tmpfs, memory', () => {
  const ok = (extra: Record<string, unknown>, hostname = '') => validateHostOptions(hc(extra), { Hostname: hostname });
  ok({ Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '1', 'fs.mqueue.msg_max': '1' } });
  assert.throws(() => ok({ Sysctls: { 'kernel.panic': '1' } }), /not in a separate kernel namespace/);
  assert.throws(() => ok({ NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } }), /host network namespace/);
  assert.throws(() => ok({ IpcMode: 'host', Sysctls: { 'kernel.sem': '1' } }), /shared IPC namespace/);
  assert.throws(() => ok({ IpcMode: 'bogus' }), /invalid IPC mode/);
  assert.throws(() => ok({ PidMode: 'bogus' }), /invalid PID mode/);
  assert.throws(() => ok({ UTSMode: 'host' }, 'x'), /conflicting options: hostname and the UTS mode/);
  assert.throws(() => ok({ Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] }), /invalid ulimit type: nofiles/);
  assert.throws(() => ok({ Ulimits: [{ Name: 'nofile', Soft: 2, Hard: 1 }] }), /soft limit must be less than or equal to hard limit/);
  assert.throws(() => ok({ Tmpfs: { run: '' } }), /must be absolute/);
  assert.throws(() => ok({ Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => ok({ SecurityOpt: ['seccomp'] }), /Invalid --security-opt/);
  assert.throws(() => ok({ Dns: ['not-an-ip'] }), /is not an ip address/);
});

test("create-time texts are moby 28's, word for word", () => {
  const fails = (extra: Record<string, unknown>, message: string) =>
    assert.throws(() => validateHostOptions(hc(extra), { Hostname: '' }), (e: Error) => e instanceof InvalidParameterError && e.message === message);
  // daemon/container.go validateCapabilities wraps caps.NormalizeLegacyCapabilities
  fails({ CapAdd: ['NET_ADMIN', 'bogus'] }, 'invalid CapAdd: unknown capability: "CAP_BOGUS"');
  fails({ CapDrop: ['cap_nope'] }, 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  // daemon/daemon_unix.go verifyPlatformContainerResources / verifyPlatformContainerSettings
  fails({ NanoCpus: 1e15 }, `range of CPUs is from 0.01 to ${cpus().length}.00, as there are only ${cpus().length} CPUs available`);
  fails({ MemorySwap: 64 * 1024 * 1024 }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  fails({ MemorySwappiness: 101 }, 'Invalid value: 101, valid memory swappiness range is 0-100');
  fails({ MemoryReservation: 1024 }, 'Minimum memory reservation allowed is 6MB');
  fails({ CpusetCpus: '1-x' }, 'Invalid value 1-x for cpuset cpus: invalid format: 1-x');
  fails({ OomScoreAdj: 1001 }, 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  fails({ CgroupnsMode: 'shared' }, 'invalid cgroup namespace mode: shared');
  fails({ ExtraHosts: ['nocolon'] }, 'bad format for add-host: "nocolon"');
  fails({ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 }, Memory: 1 }, 'Minimum memory limit allowed is 6MB');
  // what moby accepts stays accepted
  validateHostOptions(hc({ CapAdd: ['ALL'], CapDrop: ['net_raw'], MemorySwappiness: -1, OomScoreAdj: -1000, CgroupnsMode: 'private' }), { Hostname: '' });
});

