import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, cgroupsPathFor, type SpecInput } from '../../src/runtime/oci-spec.js';
import { applyCriExtras, type CriContainerExtras } from '../../src/engine/containers/cri-extras.js';

const base: SpecInput = {
  rootfs: '/r',
  args: ['top'],
  env: [],
  cwd: '/',
  user: { uid: 0, gid: 0 },
  terminal: false,
  hostname: 'abc',
  network: { mode: 'none' },
  etcFiles: { hosts: '/c/hosts', resolvConf: '/c/resolv.conf', hostname: '/c/hostname' },
  binds: [],
  cgroupsPath: cgroupsPathFor('abc'),
};

const pod: CriContainerExtras = {
  namespace: 'k8s.io',
  podId: 'p1',
  role: 'container',
  join: { network: '/run/berth/netns/p1', ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts', pid: '/proc/42/ns/pid' },
  etcFiles: { hosts: '/pod/hosts', resolvConf: '/pod/resolv.conf', hostname: '/pod/hostname' },
  shmPath: '/pod/shm',
};

test('a Docker container is unchanged by applyCriExtras', () => {
  assert.deepEqual(buildSpec(applyCriExtras(base, undefined)), buildSpec(base));
});

test('a pod container joins the pod namespaces by path and sets no hostname of its own', () => {
  const spec = buildSpec(applyCriExtras(base, pod));
  const ns = Object.fromEntries((spec.linux.namespaces ?? []).map((n) => [n.type, n.path ?? '']));
  assert.equal(ns.network, '/run/berth/netns/p1');
  assert.equal(ns.ipc, '/proc/42/ns/ipc');
  assert.equal(ns.uts, '/proc/42/ns/uts');
  assert.equal(ns.pid, '/proc/42/ns/pid');
  // runc refuses a hostname without a UTS namespace of the container's own
  assert.equal(spec.hostname, undefined);
  const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
  assert.equal(byDest.get('/etc/hosts')?.source, '/pod/hosts');
  assert.equal(byDest.get('/etc/resolv.conf')?.source, '/pod/resolv.conf');
  assert.equal(byDest.get('/dev/shm')?.source, '/pod/shm');
  assert.equal(byDest.get('/dev/shm')?.type, 'bind');
});

test('CRI containers get neither of Docker\'s unprivileged ICMP/port sysctls', () => {
  const spec = buildSpec(applyCriExtras(base, { ...pod, join: {} }));
  assert.equal(spec.linux.sysctl?.['net.ipv4.ping_group_range'], undefined);
  assert.equal(spec.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], undefined);
});

test('a non-empty CRI masked/readonly list replaces the defaults; an empty one keeps them', () => {
  const replaced = buildSpec(applyCriExtras(base, { ...pod, maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] }));
  assert.deepEqual(replaced.linux.maskedPaths, ['/bin/ls']);
  assert.deepEqual(replaced.linux.readonlyPaths, ['/tmp']);
  const kept = buildSpec(applyCriExtras(base, { ...pod, maskedPaths: [], readonlyPaths: [] }));
  assert.deepEqual(kept.linux.maskedPaths, buildSpec(base).linux.maskedPaths);
  assert.ok(kept.linux.readonlyPaths?.includes('/proc/sys'));
});

test('CRI mounts keep their propagation', () => {
  const spec = buildSpec(applyCriExtras(base, { ...pod, mounts: [{ source: '/tmp/x', destination: '/mnt', readonly: false, propagation: 'rshared' }] }));
  const m = spec.mounts.find((x) => x.destination === '/mnt');
  assert.deepEqual(m?.options, ['rbind', 'rshared']);
  assert.equal(spec.linux.rootfsPropagation, 'shared');
});

test('a CRI oom_score_adj reaches the process (Docker\'s HostConfig has no path to the spec for it)', () => {
  assert.equal(buildSpec(applyCriExtras(base, { ...pod, oomScoreAdj: 500 })).process.oomScoreAdj, 500);
  assert.equal(buildSpec(applyCriExtras(base, pod)).process.oomScoreAdj, 0);
});

test('Strict supplemental groups: the process keeps its gid and the listed groups only', () => {
  const user = { uid: 1000, gid: 1000, additionalGids: [1000, 50000, 1234] };
  assert.deepEqual(buildSpec(applyCriExtras({ ...base, user }, { ...pod, strictSupplementalGroups: [1234] })).process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 1234] });
  assert.deepEqual(buildSpec(applyCriExtras({ ...base, user }, pod)).process.user, user);
});

test('an exact CRI capability set wins over privileged\'s every-capability', () => {
  const spec = buildSpec(applyCriExtras({ ...base, privileged: true }, { ...pod, capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] }));
  assert.deepEqual(spec.process.capabilities?.bounding, ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(spec.linux.maskedPaths, [], 'still privileged otherwise');
});
