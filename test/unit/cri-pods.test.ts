import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import { matchesFilter } from '../../src/cri/pods/filter.js';
import { planInfraContainer } from '../../src/cri/pods/infra-container.js';
import { clampOomScoreAdj, ownOomFacts } from '../../src/cri/pods/oom.js';
import { podCidrV4 } from '../../src/cri/pods/pod-network.js';
import { resolvConfFromDns } from '../../src/cri/pods/resolv-conf.js';
import { podNamespaces, sandboxName, validateSandboxConfig } from '../../src/cri/pods/sandbox-config.js';
import type { PodInfo } from '../../src/cri/pods/types.js';

function pod(over: Partial<PodInfo>): PodInfo {
  return {
    id: 'abcdef0123', name: 'p', uid: 'u', namespace: 'n', attempt: 0, state: 'SANDBOX_READY', createdAtNs: '1',
    labels: {}, annotations: {}, runtimeHandler: '', infraContainerId: 'x', hostNetwork: false, hostIpc: false, hostPid: false,
    pidMode: 'POD', additionalIps: [], hostname: '', etc: { hosts: '', resolvConf: '', hostname: '' }, cgroupParent: '', sysctls: {}, securityContext: {},
    ...over,
  };
}

test('ListPodSandbox filter: id prefix, state (an empty state value is READY), every label must match', () => {
  const p = pod({ labels: { app: 'web', tier: 'front' } });
  assert.equal(matchesFilter(p, undefined), true);
  assert.equal(matchesFilter(p, {}), true);
  assert.equal(matchesFilter(p, { id: 'abc' }), true);
  assert.equal(matchesFilter(p, { id: 'abd' }), false);
  assert.equal(matchesFilter(p, { state: {} }), true);
  assert.equal(matchesFilter(p, { state: { state: 'SANDBOX_NOTREADY' } }), false);
  assert.equal(matchesFilter(pod({ state: 'SANDBOX_NOTREADY' }), { state: { state: 1 } }), true);
  assert.equal(matchesFilter(p, { labelSelector: { app: 'web' } }), true);
  assert.equal(matchesFilter(p, { labelSelector: { app: 'web', tier: 'back' } }), false);
  assert.equal(matchesFilter(p, { labelSelector: { other: '' } }), false);
});

test('resolv.conf from DNSConfig: search, nameservers, options; none given means the host file', () => {
  assert.equal(resolvConfFromDns(undefined), undefined);
  assert.equal(resolvConfFromDns({}), undefined);
  assert.equal(
    resolvConfFromDns({ servers: ['10.10.10.10', '8.8.8.8'], searches: ['google.com', 'svc.local'], options: ['ndots:8', 'edns0'] }),
    'search google.com svc.local\nnameserver 10.10.10.10\nnameserver 8.8.8.8\noptions ndots:8 edns0\n',
  );
  assert.equal(resolvConfFromDns({ servers: ['1.1.1.1'] }), 'nameserver 1.1.1.1\n');
  assert.throws(() => resolvConfFromDns({ searches: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }), InvalidParameterError);
  // a value cannot add lines of its own
  assert.throws(() => resolvConfFromDns({ servers: ['1.1.1.1\nnameserver 6.6.6.6'] }), InvalidParameterError);
});

test('oom_score_adj: -998 only with CAP_SYS_RESOURCE, else never below the daemon own score', () => {
  assert.equal(clampOomScoreAdj(-998, 0, true), -998);
  assert.equal(clampOomScoreAdj(-998, 0, false), 0);
  assert.equal(clampOomScoreAdj(-998, -500, false), -500);
  assert.equal(clampOomScoreAdj(100, 0, false), 100);
  assert.deepEqual(ownOomFacts('0\n', 'Name:\tnode\nCapEff:\t000001fffeffffff\n'), { own: 0, canLower: false });
  assert.deepEqual(ownOomFacts('-10\n', 'CapEff:\t000001ffffffffff\n'), { own: -10, canLower: true });
});

test('sandbox config: metadata name required, port ranges, containerd sandbox name', () => {
  assert.throws(() => validateSandboxConfig(undefined), InvalidParameterError);
  assert.throws(() => validateSandboxConfig({ metadata: {} }), InvalidParameterError);
  assert.throws(() => validateSandboxConfig({ metadata: { name: 'a' }, portMappings: [{ containerPort: 0 }] }), InvalidParameterError);
  assert.throws(() => validateSandboxConfig({ metadata: { name: 'a' }, portMappings: [{ containerPort: 80, hostPort: 70000 }] }), InvalidParameterError);
  validateSandboxConfig({ metadata: { name: 'a' }, portMappings: [{ containerPort: 80 }], hostname: 'test-hostname' });
  assert.throws(() => validateSandboxConfig({ metadata: { name: 'a' }, hostname: 'a\nb' }), InvalidParameterError);
  assert.throws(() => validateSandboxConfig({ metadata: { name: 'a' }, hostname: 'x'.repeat(65) }), InvalidParameterError);
  assert.equal(sandboxName({ name: 'web', namespace: 'default', uid: 'u1', attempt: 2 }), 'k8s_POD_web_default_u1_2');
});

test('namespace modes: absent is POD; NODE is the host; a pod pid mode is POD or NODE', () => {
  assert.deepEqual(podNamespaces({}), { hostNetwork: false, hostPid: false, hostIpc: false, pidMode: 'POD' });
  assert.deepEqual(podNamespaces({ linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 2 } } } }), { hostNetwork: true, hostPid: true, hostIpc: true, pidMode: 'NODE' });
  assert.equal(podNamespaces({ linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } } }).pidMode, 'POD');
});

test('infra container: pod network, hostPort bindings only, shareable IPC, sysctls, seccomp presence, etc files', () => {
  const etc = { hostname: '/p/hostname', hosts: '/p/hosts', resolvConf: '/p/resolv.conf' };
  const base = { podId: 'pid', image: 'pause', runtime: 'runc', oomScoreAdj: 0, network: 'berth-cri', hostname: 'h', etc };
  const { body, extras } = planInfraContainer({
    ...base,
    config: {
      metadata: { name: 'a' },
      portMappings: [{ containerPort: 80, hostPort: 12000, hostIp: '127.0.0.1' }, { containerPort: 81 }, { protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
      linux: { sysctls: { 'kernel.shm_rmid_forced': '1' }, cgroupParent: '/kubepods', securityContext: { seccomp: {} } },
    },
  });
  const hc = body.HostConfig;
  assert.equal(hc.NetworkMode, 'berth-cri');
  assert.deepEqual(hc.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '12000' }], '53/udp': [{ HostIp: '', HostPort: '5353' }] });
  assert.equal(hc.IpcMode, 'shareable');
  assert.equal(hc.PidMode, '');
  assert.deepEqual(hc.Sysctls, { 'kernel.shm_rmid_forced': '1' });
  assert.deepEqual(hc.SecurityOpt, []); // present but empty: RuntimeDefault
  assert.equal(body.Hostname, 'h');
  assert.deepEqual(extras.etcFiles, etc);
  assert.equal(extras.role, 'sandbox');
  assert.equal(extras.cgroupParent, '/kubepods');

  const host = planInfraContainer({ ...base, config: { metadata: { name: 'a' }, portMappings: [{ containerPort: 80, hostPort: 80 }], linux: { securityContext: { namespaceOptions: { network: 'NODE', ipc: 'NODE', pid: 'NODE' } } } } });
  assert.equal(host.body.HostConfig.NetworkMode, 'host');
  assert.equal(host.body.HostConfig.UTSMode, 'host');
  assert.equal(host.body.HostConfig.IpcMode, 'host');
  assert.equal(host.body.HostConfig.PidMode, 'host');
  assert.deepEqual(host.body.HostConfig.PortBindings, {});
  assert.deepEqual(host.body.HostConfig.SecurityOpt, ['seccomp=unconfined']); // absent: unconfined
  assert.equal(host.body.Hostname, undefined);
  assert.equal(host.extras.etcFiles?.hostname, undefined);
});

test("kubelet's pod CIDR: its IPv4 range, dual-stack lists included; none when empty or IPv6 only", () => {
  assert.equal(podCidrV4(''), undefined);
  assert.equal(podCidrV4('10.244.1.0/24'), '10.244.1.0/24');
  assert.equal(podCidrV4('fd00:10:244::/64, 10.244.2.0/24'), '10.244.2.0/24');
  assert.equal(podCidrV4('fd00:10:244::/64'), undefined);
});
