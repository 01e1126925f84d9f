// The CRI container mapping (src/cri/containers): command/args, security context, mounts,
// resources, namespaces, names, status and filters. Pure functions: no daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processArgs } from '../../src/cri/containers/command.js';
import { capabilitySet, criSecurity, currentCapabilities, seccompChoice, userString } from '../../src/cri/containers/security.js';
import { bindFromCri, criPropagation } from '../../src/cri/containers/mounts.js';
import { clampOomScoreAdj, criResources } from '../../src/cri/containers/resources.js';
import { createPlan, type CreatePlanInput } from '../../src/cri/containers/create-plan.js';
import { criContainerName } from '../../src/cri/containers/names.js';
import { criContainerStatus, criState, exitReason, isoToNs } from '../../src/cri/containers/status.js';
import { filterContainers, widenId } from '../../src/cri/containers/filters.js';
import { checkPropagation, mountOf, parseMountInfo } from '../../src/cri/containers/propagation-check.js';
import type { PodInfo } from '../../src/cri/pods/types.js';
import { InvalidParameterError } from '../../src/errors.js';
import { DEFAULT_CAPABILITIES, allCapabilities } from '../../src/runtime/capabilities.js';
import { ZERO_TIME, type ContainerRecord } from '../../src/engine/containers/model.js';

const pod = (extra: Partial<PodInfo> = {}): PodInfo => ({
  id: 'p'.repeat(64), name: 'web', uid: 'uid1', namespace: 'default', attempt: 0,
  state: 'SANDBOX_READY', createdAtNs: '1', labels: {}, annotations: {}, runtimeHandler: '',
  infraContainerId: 'i'.repeat(64), hostNetwork: false, hostIpc: false, hostPid: false, pidMode: 'POD',
  netnsPath: '/run/berth/netns/pod1', additionalIps: [], hostname: 'web-host',
  etc: { hosts: '/pods/p/hosts', resolvConf: '/pods/p/resolv.conf', hostname: '/pods/p/hostname' },
  shmPath: '/pods/p/shm', logDirectory: '/var/log/pods/x', cgroupParent: '', sysctls: {}, securityContext: {},
  ...extra,
});

const planInput = (config: CreatePlanInput['config'], extra: Partial<CreatePlanInput> = {}): CreatePlanInput => ({
  config: { metadata: { name: 'c1', attempt: 2 }, image: { image: 'busybox' }, ...config },
  pod: pod(),
  infraPid: 4242,
  image: { id: 'sha256:abc', name: 'docker.io/library/busybox:latest', config: { Cmd: ['sh'] } },
  binds: [],
  oomScoreAdjFloor: 0,
  ...extra,
});

test('command replaces the ENTRYPOINT and drops the image CMD; args alone replace the CMD', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'] };
  assert.deepEqual(processArgs(['top'], [], image), { entrypoint: ['top'], cmd: [] });
  assert.deepEqual(processArgs(['sh'], ['-c', 'x'], image), { entrypoint: ['sh'], cmd: ['-c', 'x'] });
  assert.deepEqual(processArgs([], ['x'], image), { entrypoint: ['/entry'], cmd: ['x'] });
  assert.deepEqual(processArgs(undefined, undefined, image), { entrypoint: ['/entry'], cmd: ['default'] });
  assert.deepEqual(processArgs(undefined, undefined, { Entrypoint: [''], Cmd: ['a'] }), { entrypoint: [], cmd: ['a'] });
  assert.throws(() => processArgs([], [], { Entrypoint: null, Cmd: null }), /no command specified/);
});

test('user: username wins over uid, a group needs a user', () => {
  assert.equal(userString({ runAsUser: { value: '1001' } }), '1001');
  assert.equal(userString({ runAsUser: { value: '0' } }), '0');
  assert.equal(userString({ runAsUser: {} }), '0', 'an Int64Value without value is uid 0');
  assert.equal(userString({ runAsUsername: 'nobody', runAsUser: { value: '5' } }), 'nobody');
  assert.equal(userString({ runAsUser: { value: '1001' }, runAsGroup: { value: '1002' } }), '1001:1002');
  assert.equal(userString({}), '');
  assert.throws(() => userString({ runAsGroup: { value: '1002' } }), (e: Error) => e instanceof InvalidParameterError && /specified without user/.test(e.message));
});

test('capabilities: ALL first, then single adds and drops (containerd)', () => {
  // ALL is what this process holds (cap.Current), never more than the kernel knows
  assert.ok(currentCapabilities().every((c) => allCapabilities().includes(c)));
  assert.ok(currentCapabilities().includes('CAP_SYS_ADMIN'));
  assert.equal(capabilitySet(undefined), undefined);
  assert.equal(capabilitySet({}), undefined);
  assert.deepEqual(capabilitySet({ addCapabilities: ['NET_ADMIN'] }), [...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN']);
  assert.deepEqual(capabilitySet({ dropCapabilities: ['NET_RAW'] }), DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW'));
  assert.deepEqual(capabilitySet({ addCapabilities: ['ALL'] }), currentCapabilities());
  assert.deepEqual(capabilitySet({ dropCapabilities: ['ALL'] }), []);
  assert.deepEqual(capabilitySet({ addCapabilities: ['ALL'], dropCapabilities: ['CHOWN'] }), currentCapabilities().filter((c) => c !== 'CAP_CHOWN'));
  assert.deepEqual(capabilitySet({ addCapabilities: ['SYS_ADMIN'], dropCapabilities: ['ALL'] }), ['CAP_SYS_ADMIN']);
});

test('seccomp presence: absent is unconfined, {} is RuntimeDefault, Localhost needs an absolute path', () => {
  assert.deepEqual(seccompChoice(undefined, undefined), { kind: 'unconfined' });
  assert.deepEqual(seccompChoice({}, undefined), { kind: 'runtime-default' });
  assert.deepEqual(seccompChoice({ profileType: 'Unconfined' }, 'runtime/default'), { kind: 'unconfined' }, 'the field wins over the old string');
  assert.deepEqual(seccompChoice({ profileType: 'Localhost', localhostRef: '/p.json' }, undefined), { kind: 'localhost', path: '/p.json' });
  assert.throws(() => seccompChoice({ profileType: 'Localhost', localhostRef: 'p.json' }, undefined), InvalidParameterError);
  assert.deepEqual(seccompChoice(undefined, 'runtime/default'), { kind: 'runtime-default' });
  assert.deepEqual(seccompChoice(undefined, 'docker/default'), { kind: 'runtime-default' });
  assert.deepEqual(seccompChoice(undefined, 'localhost//x.json'), { kind: 'localhost', path: '/x.json' });
  assert.deepEqual(seccompChoice(undefined, 'unconfined'), { kind: 'unconfined' });
});

test('privileged: needs a privileged pod, ignores seccomp, masks nothing', () => {
  assert.throws(() => criSecurity({ privileged: true }, false), /no privileged container allowed in sandbox/);
  const s = criSecurity({ privileged: true, seccomp: { profileType: 'Localhost', localhostRef: '/x' }, maskedPaths: ['/a'], capabilities: { dropCapabilities: ['ALL'] } }, true);
  assert.deepEqual(s.seccomp, { kind: 'unconfined' });
  assert.deepEqual(s.maskedPaths, []);
  assert.deepEqual(s.readonlyPaths, []);
  assert.deepEqual(s.capabilities, currentCapabilities(), 'the daemon\'s own set');
});

test('masked and readonly paths: a non-empty list replaces the defaults, an empty one keeps them', () => {
  assert.deepEqual(criSecurity({ maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] }, false), {
    privileged: false, capabilities: undefined, seccomp: { kind: 'unconfined' }, noNewPrivileges: false,
    maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'], readonlyRootfs: false, user: '', supplementalGroups: [], strictGroups: false,
  });
  assert.equal(criSecurity({ supplementalGroupsPolicy: 'Strict' }, false).strictGroups, true);
  assert.throws(() => criSecurity({ supplementalGroupsPolicy: 'Other' as 'Strict' }, false), /unsupported supplemental groups policy/);
  const s = criSecurity({ maskedPaths: [], readonlyPaths: [], supplementalGroups: ['1234', 5678], noNewPrivs: true, readonlyRootfs: true }, false);
  assert.equal(s.maskedPaths, undefined);
  assert.equal(s.readonlyPaths, undefined);
  assert.deepEqual(s.supplementalGroups, [1234, 5678]);
  assert.equal(s.noNewPrivileges, true);
  assert.equal(s.readonlyRootfs, true);
});

test('mounts: propagation names, readonly, bad paths refused', () => {
  assert.deepEqual(bindFromCri({ containerPath: '/data/', hostPath: '/tmp/x', readonly: true }), { source: '/tmp/x', destination: '/data/', readonly: true, propagation: 'rprivate' });
  assert.equal(bindFromCri({ containerPath: '/d', hostPath: '/h', propagation: 'PROPAGATION_HOST_TO_CONTAINER' }).propagation, 'rslave');
  assert.equal(bindFromCri({ containerPath: '/d', hostPath: '/h', propagation: 'PROPAGATION_BIDIRECTIONAL' }).propagation, 'rshared');
  assert.throws(() => bindFromCri({ containerPath: 'd', hostPath: '/h' }), InvalidParameterError);
  assert.throws(() => bindFromCri({ containerPath: '/d', hostPath: '' }), InvalidParameterError);
  assert.throws(() => bindFromCri({ containerPath: '/d', hostPath: '/h', recursiveReadOnly: true }), /recursive read-only/);
  assert.equal(criPropagation('rshared'), 'PROPAGATION_BIDIRECTIONAL');
  assert.equal(criPropagation('rslave'), 'PROPAGATION_HOST_TO_CONTAINER');
  assert.equal(criPropagation(undefined), 'PROPAGATION_PRIVATE');
});

test('resources: swap defaults to the memory limit; oom_score_adj never below the floor', () => {
  assert.deepEqual(criResources({ memoryLimitInBytes: '15728640', cpuShares: '512', cpuQuota: '50000', cpuPeriod: '100000', cpusetCpus: '0' }), {
    CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, Memory: 15728640, MemorySwap: 15728640, CpusetCpus: '0', CpusetMems: '',
  });
  assert.equal(criResources({ memoryLimitInBytes: '100', memorySwapLimitInBytes: '300' }).MemorySwap, 300);
  assert.equal(criResources(undefined).Memory, 0);
  assert.equal(clampOomScoreAdj('-998', 0), 0);
  assert.equal(clampOomScoreAdj('500', 0), 500);
  assert.equal(clampOomScoreAdj(undefined, -100), 0);
  assert.equal(clampOomScoreAdj('-500', -800), -500);
  assert.throws(() => clampOomScoreAdj('2000', 0), InvalidParameterError);
});

test('names: unique per pod and metadata', () => {
  assert.equal(criContainerName({ name: 'c', attempt: 1 }, pod()), 'k8s_c_web_default_uid1_1');
  assert.throws(() => criContainerName({}, pod()), /metadata with a name/);
});

test('create plan: the pod namespaces by default', () => {
  const plan = createPlan(planInput({ command: ['top'], envs: [{ key: 'A', value: 'b' }], labels: { l: '1' }, logPath: 'c1/0.log', tty: true, stdin: true }));
  assert.equal(plan.name, 'k8s_c1_web_default_uid1_2');
  assert.deepEqual(plan.cri.join, { network: '/run/berth/netns/pod1', uts: '/proc/4242/ns/uts', ipc: '/proc/4242/ns/ipc', pid: '/proc/4242/ns/pid' });
  assert.equal(plan.cri.shmPath, '/pods/p/shm');
  assert.deepEqual(plan.cri.etcFiles, pod().etc);
  assert.equal(plan.cri.logPath, '/var/log/pods/x/c1/0.log');
  assert.equal(plan.cri.podId, pod().id);
  assert.equal(plan.cri.namespace, 'k8s.io');
  assert.deepEqual(plan.body.Entrypoint, ['top']);
  assert.deepEqual(plan.body.Cmd, []);
  assert.deepEqual(plan.body.Env, ['A=b']);
  assert.equal(plan.body.Hostname, 'web-host');
  assert.equal(plan.body.Tty, true);
  assert.equal(plan.body.OpenStdin, true);
  assert.equal(plan.body.HostConfig.NetworkMode, 'none');
  assert.equal(plan.body.HostConfig.PidMode, '');
  assert.deepEqual(plan.body.HostConfig.SecurityOpt, ['seccomp=unconfined'], 'no seccomp field: unconfined');
  assert.equal(plan.cri.capabilities, undefined, 'no capabilities field: the default set');
  assert.deepEqual((plan.cri.meta as { labels: unknown }).labels, { l: '1' });
});

test('create plan: host and container namespace modes', () => {
  const nodeAll = createPlan(planInput({ linux: { securityContext: { namespaceOptions: { network: 'NODE', ipc: 'NODE', pid: 'NODE' } } } }, { pod: pod({ hostNetwork: true, hostIpc: true, hostPid: true, netnsPath: undefined }), infraPid: 0 }));
  assert.deepEqual(nodeAll.cri.join, {});
  assert.equal(nodeAll.body.HostConfig.NetworkMode, 'host');
  assert.equal(nodeAll.body.HostConfig.IpcMode, 'host');
  assert.equal(nodeAll.body.HostConfig.PidMode, 'host');
  assert.equal(nodeAll.body.HostConfig.UTSMode, 'host');
  assert.equal(nodeAll.cri.shmPath, undefined);
  const own = createPlan(planInput({ linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } } }));
  assert.equal(own.cri.join?.pid, undefined);
  const target = createPlan(planInput({ linux: { securityContext: { namespaceOptions: { pid: 'TARGET', targetId: 'x' } } } }, { targetPid: 77 }));
  assert.equal(target.cri.join?.pid, '/proc/77/ns/pid');
  assert.throws(() => createPlan(planInput({ linux: { securityContext: { namespaceOptions: { pid: 'TARGET' } } } })), /not running/);
  assert.throws(() => createPlan(planInput({}, { infraPid: 0 })), /not running/);
});

test('create plan: security context in HostConfig words', () => {
  const plan = createPlan(planInput({
    linux: {
      resources: { oomScoreAdj: '-998', memoryLimitInBytes: '1048576' },
      securityContext: {
        capabilities: { dropCapabilities: ['ALL'] }, seccomp: { profileType: 'Localhost', localhostRef: '/p.json' },
        noNewPrivs: true, readonlyRootfs: true, runAsUser: { value: '1001' }, runAsGroup: { value: '1002' }, supplementalGroups: ['1234'],
        maskedPaths: ['/bin/ls'],
      },
    },
  }, { seccompProfile: '{"defaultAction":"SCMP_ACT_ALLOW"}' }));
  const hc = plan.body.HostConfig;
  assert.deepEqual(plan.cri.capabilities, []);
  assert.deepEqual(hc.SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges']);
  assert.equal(hc.ReadonlyRootfs, true);
  assert.deepEqual(hc.GroupAdd, ['1234']);
  assert.equal(plan.cri.oomScoreAdj, 0, 'clamped to the daemon\'s own');
  assert.equal(hc.Memory, 1048576);
  assert.equal(plan.body.User, '1001:1002');
  assert.deepEqual(plan.cri.maskedPaths, ['/bin/ls']);
  assert.equal(plan.cri.readonlyPaths, undefined);
  const def = createPlan(planInput({ linux: { securityContext: { seccomp: {} } } }));
  assert.deepEqual(def.body.HostConfig.SecurityOpt, [], 'RuntimeDefault: the engine\'s default profile');
});

const record = (extra: Partial<ContainerRecord['state']>, cri: Partial<NonNullable<ContainerRecord['cri']>> = {}): ContainerRecord => ({
  id: 'a'.repeat(64), name: '/k8s_c', created: '2026-11-29T22:00:00.123456789Z', imageId: 'sha256:img', imageRef: 'sha256:img',
  config: {} as ContainerRecord['config'], hostConfig: {} as ContainerRecord['hostConfig'],
  state: { Status: 'exited', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: '2026-11-29T22:00:01Z', FinishedAt: '2026-11-29T22:00:02.5Z', ...extra },
  restartCount: 0, path: '', args: [],
  cri: { namespace: 'k8s.io', podId: 'pod1', role: 'container', logPath: '/l/c.log', meta: { name: 'c', attempt: 1, image: 'busybox', labels: { foo: 'bar' }, mounts: [{ containerPath: '/d', hostPath: '/h', readonly: false, propagation: 'rslave' }] }, ...cri },
});

test('status: states, reasons, nanosecond times, mounts echoed', () => {
  assert.equal(isoToNs(ZERO_TIME), '0');
  assert.equal(isoToNs('2026-11-29T22:00:00.123456789Z'), '1795989600123456789');
  assert.equal(isoToNs('2026-11-29T22:00:00Z'), '1795989600000000000');
  assert.equal(criState(record({ Status: 'created' })), 'CONTAINER_CREATED');
  assert.equal(criState(record({ Status: 'running' })), 'CONTAINER_RUNNING');
  assert.equal(exitReason(record({ ExitCode: 0 })), 'Completed');
  assert.equal(exitReason(record({ ExitCode: 1 })), 'Error');
  assert.equal(exitReason(record({ ExitCode: 137, OOMKilled: true })), 'OOMKilled');
  assert.equal(exitReason(record({ Status: 'running' })), '');
  const s = criContainerStatus(record({ ExitCode: 3 }));
  assert.equal(s.state, 'CONTAINER_EXITED');
  assert.equal(s.exitCode, 3);
  assert.equal(s.startedAt, '1795989601000000000');
  assert.equal(s.finishedAt, '1795989602500000000');
  assert.equal(s.logPath, '/l/c.log');
  assert.deepEqual(s.metadata, { name: 'c', attempt: 1 });
  assert.deepEqual(s.mounts, [{ containerPath: '/d', hostPath: '/h', readonly: false, selinuxRelabel: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }]);
  assert.equal(criContainerStatus(record({ Status: 'running' })).finishedAt, '0');
  // a failed start: exited with containerd's StartError
  const failed = criContainerStatus(record({ Status: 'created', Error: 'exec: "nope": executable file not found', ExitCode: 127 }));
  assert.equal(failed.state, 'CONTAINER_EXITED');
  assert.equal(failed.reason, 'StartError');
  assert.equal(failed.exitCode, 127);
  assert.match(failed.message, /executable file not found/);
  assert.equal(criState(record({ Status: 'created' })), 'CONTAINER_CREATED');
});

test('filters: id and pod prefixes widened, state zero value, labels', () => {
  assert.equal(widenId('ab', ['abc', 'xyz']), 'abc');
  assert.equal(widenId('a', ['abc', 'abd']), 'a', 'ambiguous: no match');
  const running = { ...record({ Status: 'running' }), id: 'b'.repeat(64) };
  const created = { ...record({ Status: 'created' }, { podId: 'pod2', meta: { labels: { foo: 'baz' } } }), id: 'c'.repeat(64) };
  const all = [record({}), running, created];
  assert.equal(filterContainers(all, undefined, []).length, 3);
  assert.deepEqual(filterContainers(all, { id: 'bbb' }, []).map((c) => c.id), [running.id]);
  assert.deepEqual(filterContainers(all, { state: {} }, []).map((c) => c.id), [created.id]);
  assert.deepEqual(filterContainers(all, { state: { state: 'CONTAINER_RUNNING' } }, []).map((c) => c.id), [running.id]);
  assert.deepEqual(filterContainers(all, { podSandboxId: 'pod2' }, ['pod1', 'pod2']).map((c) => c.id), [created.id]);
  assert.deepEqual(filterContainers(all, { labelSelector: { foo: 'baz' } }, []).map((c) => c.id), [created.id]);
  assert.equal(filterContainers(all, { labelSelector: { foo: 'bar' } }, []).length, 2);
});

test('create plan: the exact capability set goes in the extras (ALL = the daemon\'s own set)', () => {
  const addAll = createPlan(planInput({ linux: { securityContext: { capabilities: { addCapabilities: ['ALL'], dropCapabilities: ['CHOWN'] } } } }));
  assert.deepEqual(addAll.cri.capabilities, currentCapabilities().filter((c) => c !== 'CAP_CHOWN'));
  const dropAll = createPlan(planInput({ linux: { securityContext: { capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] } } } }));
  assert.deepEqual(dropAll.cri.capabilities, ['CAP_NET_ADMIN']);
  assert.equal(dropAll.body.HostConfig.CapAdd, undefined);
});

test('propagation: a slave bind needs a shared or slave source mount, a shared one a shared mount', () => {
  const mounts = parseMountInfo([
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '40 27 0:50 / /tmp/shared rw shared:7 - tmpfs tmpfs rw',
    '41 27 0:51 / /tmp/slave rw master:7 - tmpfs tmpfs rw',
    '42 27 0:52 / /tmp/with\\040space rw shared:9 - tmpfs tmpfs rw',
  ].join('\n'));
  assert.equal(mountOf('/tmp/shared/x/y', mounts)?.mountPoint, '/tmp/shared');
  assert.equal(mountOf('/tmp/sharedx', mounts)?.mountPoint, '/');
  assert.equal(mountOf('/tmp/with space/a', mounts)?.shared, true);
  const bind = (source: string, propagation: 'rslave' | 'rshared' | 'rprivate') => ({ source, destination: '/d', readonly: false, propagation });
  checkPropagation(bind('/tmp/shared/a', 'rshared'), mounts);
  checkPropagation(bind('/tmp/shared/a', 'rslave'), mounts);
  checkPropagation(bind('/tmp/slave/a', 'rslave'), mounts);
  checkPropagation(bind('/var/x', 'rprivate'), mounts);
  assert.throws(() => checkPropagation(bind('/tmp/slave/a', 'rshared'), mounts), /not a shared mount/);
  assert.throws(() => checkPropagation(bind('/var/x', 'rslave'), mounts), /is mounted on "\/" but it is not a shared or slave mount/);
});

test('create plan: a Strict groups policy lists the groups the process gets', () => {
  const strict = createPlan(planInput({ linux: { securityContext: { runAsUser: { value: '1000' }, supplementalGroups: ['1234'], supplementalGroupsPolicy: 'Strict' } } }));
  assert.deepEqual(strict.cri.strictSupplementalGroups, [1234]);
  assert.equal(createPlan(planInput({ linux: { securityContext: { supplementalGroups: ['1234'] } } })).cri.strictSupplementalGroups, undefined);
});
