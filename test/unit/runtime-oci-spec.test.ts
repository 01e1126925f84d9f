import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, cgroupsPathFor, mergeTmpfsOptions, type SpecInput } from '../../src/runtime/oci-spec.js';
import { effectiveCapabilities } from '../../src/runtime/capabilities.js';
import { convertSeccompProfile } from '../../src/runtime/seccomp.js';

const base: SpecInput = {
  rootfs: '/var/lib/berth/rootfs/x',
  args: ['sh'],
  env: ['PATH=/usr/bin'],
  cwd: '',
  user: { uid: 0, gid: 0, additionalGids: [0] },
  terminal: false,
  hostname: 'abc',
  network: { mode: 'none' },
  etcFiles: { hosts: '/c/hosts', resolvConf: '/c/resolv.conf', hostname: '/c/hostname' },
  binds: [],
  cgroupsPath: cgroupsPathFor('abc'),
};

// moby daemon/pkg/oci/caps/defaults.go
const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

test('a default container gets Docker defaults', () => {
  const spec = buildSpec(base);
  assert.deepEqual(spec.process.capabilities?.bounding, DOCKER_DEFAULT_CAPS);
  assert.deepEqual(spec.process.capabilities?.effective, DOCKER_DEFAULT_CAPS);
  assert.deepEqual(spec.process.capabilities?.permitted, DOCKER_DEFAULT_CAPS);
  assert.equal(spec.process.capabilities?.inheritable, undefined);
  assert.equal(spec.process.cwd, '/');
  assert.equal(spec.process.oomScoreAdj, 0);
  assert.equal(spec.hostname, 'abc');
  assert.equal(spec.linux.cgroupsPath, '/berth/abc');
  assert.deepEqual(
    spec.mounts.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts'],
  );
  const pts = spec.mounts.find((m) => m.destination === '/dev/pts')!;
  assert.deepEqual(pts.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/dev/shm')!.options, [
    'nosuid', 'noexec', 'nodev', 'mode=1777', `size=${64 * 1024 * 1024}`,
  ]);
  assert.equal(spec.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
  assert.ok(spec.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/etc/hosts'), {
    destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'],
  });
  assert.deepEqual(spec.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  for (const p of ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/interrupts']) {
    assert.ok(spec.linux.maskedPaths!.includes(p), p);
  }
  const ns = spec.linux.namespaces!.map((n) => n.type);
  assert.deepEqual(ns.slice(0, 5), ['mount', 'network', 'uts', 'pid', 'ipc']);
  const seccomp = spec.linux.seccomp as { defaultAction: string; architectures: string[]; syscalls: { names: string[] }[] };
  assert.equal(seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  if (process.arch === 'x64') assert.deepEqual(seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = seccomp.syscalls.flatMap((s) => s.names);
  assert.ok(allowed.includes('read'));
  assert.ok(allowed.includes('chroot'), 'CAP_SYS_CHROOT is in the default set');
  assert.equal(spec.linux.sysctl!['net.ipv4.ip_unprivileged_port_start'], '0');
  const devices = (spec.linux.resources as { devices: { allow: boolean }[] }).devices;
  assert.deepEqual(devices[0], { allow: false, access: 'rwm' });
});

test('capabilities follow TweakCapabilities', () => {
  assert.deepEqual(effectiveCapabilities({ capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'mknod'] }), [
    ...DOCKER_DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD'),
    'CAP_NET_ADMIN',
  ]);
  assert.deepEqual(effectiveCapabilities({ capDrop: ['ALL'], capAdd: ['KILL'] }), ['CAP_KILL']);
  assert.ok(effectiveCapabilities({ capAdd: ['ALL'] }).includes('CAP_SYS_ADMIN'));
  assert.throws(() => effectiveCapabilities({ capAdd: ['BOGUS'] }), /unknown capability: "CAP_BOGUS"/);
});

test('seccomp rules depend on capabilities', () => {
  const withAdmin = buildSpec({ ...base, capAdd: ['SYS_ADMIN'] }).linux.seccomp as { syscalls: { names: string[]; action: string }[] };
  const plain = buildSpec(base).linux.seccomp as { syscalls: { names: string[]; action: string }[] };
  // containers-common's profile gates quotactl (not mount, unlike Docker's) on CAP_SYS_ADMIN.
  const allows = (p: typeof plain, name: string) => p.syscalls.some((s) => s.action === 'SCMP_ACT_ALLOW' && s.names.includes(name));
  assert.equal(allows(plain, 'quotactl'), false);
  assert.equal(allows(withAdmin, 'quotactl'), true);
  assert.equal(buildSpec({ ...base, securityOpt: ['seccomp=unconfined'] }).linux.seccomp, undefined);
  const custom = convertSeccompProfile(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'chmod', action: 'SCMP_ACT_ERRNO', includes: { arches: ['nope'] } }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    [],
  );
  assert.deepEqual(custom?.syscalls, [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }]);
  assert.equal(buildSpec({ ...base, securityOpt: ['no-new-privileges'] }).process.noNewPrivileges, true);
});

test('privileged: all caps, no seccomp, no masked paths, /sys rw', () => {
  const spec = buildSpec({ ...base, privileged: true });
  assert.ok(spec.process.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.equal(spec.linux.seccomp, undefined);
  assert.deepEqual(spec.linux.maskedPaths, []);
  assert.deepEqual(spec.linux.readonlyPaths, []);
  assert.equal(spec.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'), false);
});

test('host network, binds, tmpfs, readonly rootfs, resources', () => {
  const spec = buildSpec({
    ...base,
    network: { mode: 'host' },
    readonlyRootfs: true,
    binds: [
      { source: '/h/a/b', destination: '/a/b', readonly: true },
      { source: '/h/a', destination: '/a', readonly: false },
    ],
    tmpfs: { '/run': 'size=1m,exec' },
    resources: { memory: 1 << 20, nanoCpus: 1.5e9, pidsLimit: 10 },
    shmSize: 1024,
  });
  assert.equal(spec.linux.namespaces!.some((n) => n.type === 'network'), false);
  assert.equal(spec.mounts.find((m) => m.destination === '/sys')!.type, 'bind');
  assert.equal(spec.linux.sysctl!['net.ipv4.ip_unprivileged_port_start'], undefined);
  const dests = spec.mounts.map((m) => m.destination);
  assert.ok(dests.indexOf('/a') < dests.indexOf('/a/b'), 'shallow binds first');
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/a/b')!.options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/run')!.options, ['nosuid', 'nodev', 'rprivate', 'size=1m', 'exec']);
  assert.ok(spec.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.equal(spec.mounts.find((m) => m.destination === '/dev/shm')!.options!.at(-1), 'size=1024');
  assert.equal(spec.root.readonly, true);
  const res = spec.linux.resources as { memory: { limit: number }; cpu: { quota: number; period: number }; pids: { limit: number } };
  assert.equal(res.memory.limit, 1 << 20);
  assert.deepEqual([res.cpu.quota, res.cpu.period], [150000, 100000]);
  assert.equal(res.pids.limit, 10);
});

test('mergeTmpfsOptions lets later options win', () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'size=1', 'exec', 'size=2']), ['exec', 'size=2']);
});
