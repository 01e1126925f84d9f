// Published ports' pure parts and host port allocation (src/engine/networks/ports): Docker's
// create-time messages, moby's request building, allocation against other containers' mappings
// and host sockets, netavark's merged ranges, and the inspect/list/filter views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { ContainerConfig, HostConfig } from '../../src/engine/containers/model.js';
import {
  allocatePorts,
  holdPortsAgain,
  inspectPorts,
  listPorts,
  parsePortFilter,
  portFiltersMatch,
  portRequests,
  releasePorts,
  toNetavarkPortMappings,
  validatePorts,
  type PortMapping,
} from '../../src/engine/networks/ports/index.js';
import { InvalidParameterError, SystemError } from '../../src/errors.js';
import { hostConfigOf } from '../fixtures/host-config.js';

const hc = (extra: Record<string, unknown> = {}): HostConfig => hostConfigOf(extra);
const cfg = (exposed: string[] = []): ContainerConfig => ({ ExposedPorts: Object.fromEntries(exposed.map((p) => [p, {}])) }) as unknown as ContainerConfig;

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host }, () => resolve(s));
  });
}
/** A port nobody on this host listens on (the kernel's pick), released at once. */
async function freePort(): Promise<number> {
  const s = await listen(0, '127.0.0.1');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
const canListen = async (port: number, host = '0.0.0.0') => {
  try {
    const s = await listen(port, host);
    await new Promise((r) => s.close(r));
    return true;
  } catch {
    return false;
  }
};

test('validatePorts: moby 28 texts for bad keys, host ports, addresses', () => {
  const bad = (h: Record<string, unknown>, c: string[], msg: string) =>
    assert.throws(() => validatePorts(hc(h), cfg(c)), (e: Error) => e instanceof InvalidParameterError && e.message === msg);
  bad({ PortBindings: { 'abc/tcp': [] } }, [], 'invalid port specification: "abc"');
  bad({ PortBindings: { '70000/tcp': [] } }, [], 'invalid port specification: "70000"');
  bad({ PortBindings: { '80-81/tcp': [] } }, [], 'invalid port specification: "80-81"');
  bad({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: 'x' }] } }, [], 'invalid port specification: "x"');
  bad({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '9002-9000' }] } }, [], 'invalid port specification: "9002-9000"');
  bad({ PortBindings: { '80/tcp': [{ HostIp: '1.2.3', HostPort: '80' }] } }, [], 'invalid IP address: 1.2.3');
  bad({ PortBindings: { '80/foo': [] } }, [], 'invalid proto: foo');
  bad({}, ['7000-6000/tcp'], 'invalid port specification: "7000-6000"');
  bad({}, ['80/icmp'], 'invalid proto: icmp');
  // what the CLI and compose send passes
  validatePorts(
    hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '[::1]', HostPort: '9000-9002' }], '81/tcp': null } }),
    cfg(['80/tcp', '53/udp', '7000-7002/tcp', '132/sctp', '90']),
  );
});

test('portRequests: only exposed ports, PublishAllPorts for unbound ones, exact ports first', () => {
  const r = portRequests(
    hc({ PublishAllPorts: true, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }], '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }], '99/tcp': [{ HostPort: '9999' }] } }),
    cfg(['80/tcp', '81/tcp', '7000-7001/udp']),
  );
  assert.deepEqual(r, [
    { containerPort: 81, protocol: 'tcp', hostIp: '127.0.0.1', hostPortStart: 8081, hostPortEnd: 8081 },
    { containerPort: 80, protocol: 'tcp', hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
    { containerPort: 7000, protocol: 'udp', hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
    { containerPort: 7001, protocol: 'udp', hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
  ]);
  // without PublishAllPorts an exposed port is not published
  assert.deepEqual(portRequests(hc(), cfg(['80/tcp'])), []);
});

test('allocatePorts: an exact port, held while owned, free again after releasePorts', async () => {
  const port = await freePort();
  const m = await allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] } }), cfg(['80/tcp']), [], { owner: 'c1' });
  assert.deepEqual(m, [{ hostIp: '', hostPort: port, containerPort: 80, protocol: 'tcp' }]);
  assert.equal(await canListen(port), false, 'the port is held while the container runs');
  releasePorts('c1');
  assert.equal(await canListen(port), true, 'released');
});

test('allocatePorts: a port another container publishes is "already allocated"; an overlapping address fails to bind', async () => {
  const port = await freePort();
  const taken: PortMapping[] = [{ hostIp: '', hostPort: port, containerPort: 80, protocol: 'tcp' }];
  const ep = { name: 'web', id: 'e'.repeat(64), containerIp: '10.88.0.5' };
  await assert.rejects(
    allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }] } }), cfg(['80/tcp']), taken, { endpoint: ep }),
    (e: Error) => e instanceof SystemError && e.message === `driver failed programming external connectivity on endpoint web (${ep.id}): failed to bind host port for 0.0.0.0:${port}:10.88.0.5:80/tcp: address already in use`,
  );
  await assert.rejects(
    allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] } }), cfg(['80/tcp']), taken, { endpoint: ep }),
    (e: Error) => e.message === `driver failed programming external connectivity on endpoint web (${ep.id}): Bind for 0.0.0.0:${port} failed: port is already allocated`,
  );
  await assert.rejects(
    allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }), cfg(['80/tcp']), taken),
    (e: Error) => e.message === `failed to bind host port for 127.0.0.1:${port}:80/tcp: address already in use`,
  );
  // another protocol on the same number is free
  const udp = await allocatePorts(hc({ PortBindings: { '80/udp': [{ HostIp: '', HostPort: String(port) }] } }), cfg(['80/udp']), taken);
  assert.equal(udp[0].hostPort, port);
});

test('allocatePorts: a port a host process listens on names the port; nothing stays bound after the failure', async () => {
  const [busy, other] = [await freePort(), await freePort()];
  const s = await listen(busy, '127.0.0.1');
  try {
    await assert.rejects(
      allocatePorts(
        hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(other) }], '81/tcp': [{ HostIp: '', HostPort: String(busy) }] } }),
        cfg(['80/tcp', '81/tcp']),
        [],
        { owner: 'c2' },
      ),
      (e: Error) => e.message === `failed to bind host port for 0.0.0.0:${busy}:81/tcp: address already in use`,
    );
    assert.equal(await canListen(other), true, 'the port bound before the failure was let go');
  } finally {
    s.close();
    releasePorts('c2');
  }
});

test('allocatePorts: -p 80 and -P pick from the ephemeral range, skipping taken and host-held ports, one port for all addresses of a request', async () => {
  const base = await freePort();
  const range = { start: base, end: base + 3 };
  const held = await listen(base + 1, '0.0.0.0').catch(() => undefined);
  const taken: PortMapping[] = [{ hostIp: '', hostPort: base, containerPort: 1, protocol: 'tcp' }];
  try {
    const m = await allocatePorts(
      hc({ PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }, { HostIp: '127.0.0.2', HostPort: '0' }] } }),
      cfg(['80/tcp']),
      taken,
      { ephemeral: range, owner: 'c3' },
    );
    assert.equal(m.length, 2);
    assert.equal(m[0].hostPort, m[1].hostPort);
    assert.ok(m[0].hostPort >= base + (held ? 2 : 1) && m[0].hostPort <= base + 3, `picked ${m[0].hostPort} in ${base}-${base + 3}`);
    assert.deepEqual(m.map((x) => x.hostIp).sort(), ['127.0.0.1', '127.0.0.2']);
  } finally {
    held?.close();
    releasePorts('c3');
  }
  // a host port range for one container port: the first free one of it
  const r = await allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: `${base}-${base + 3}` }] } }), cfg(['80/tcp']), taken);
  assert.ok(r[0].hostPort > base && r[0].hostPort <= base + 3);
  // a range with every port taken
  await assert.rejects(
    allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: `${base}-${base}` }] } }), cfg(['80/tcp']), taken),
    /Bind for 0.0.0.0:\d+ failed: port is already allocated/,
  );
  await assert.rejects(
    allocatePorts(hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: `${base}-${base + 1}` }] } }), cfg(['80/tcp']), [...taken, { hostIp: '', hostPort: base + 1, containerPort: 2, protocol: 'tcp' }]),
    /all ports are allocated/,
  );
});

test('allocatePorts: UDP is bound as UDP; IPv6 host addresses are skipped without IPv6', async () => {
  const port = await freePort();
  const m = await allocatePorts(
    hc({ PortBindings: { '53/udp': [{ HostIp: '', HostPort: String(port) }, { HostIp: '::1', HostPort: String(port) }] } }),
    cfg(['53/udp']),
    [],
    { owner: 'c4' },
  );
  assert.deepEqual(m, [{ hostIp: '', hostPort: port, containerPort: 53, protocol: 'udp' }]);
  assert.equal(await canListen(port), true, 'TCP on the same number is untouched');
  releasePorts('c4');
  const lost = await holdPortsAgain('c5', m);
  assert.deepEqual(lost, []);
  releasePorts('c5');
});

test('toNetavarkPortMappings merges consecutive ports into ranges', () => {
  const m = (hostPort: number, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp', hostIp = ''): PortMapping => ({ hostIp, hostPort, containerPort, protocol });
  assert.deepEqual(toNetavarkPortMappings([m(9001, 9001), m(9000, 9000), m(9002, 9002), m(8080, 80), m(8081, 81, 'udp'), m(9003, 9005)]), [
    { host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' },
    { host_ip: '', container_port: 9000, host_port: 9000, range: 3, protocol: 'tcp' },
    { host_ip: '', container_port: 9005, host_port: 9003, range: 1, protocol: 'tcp' },
    { host_ip: '', container_port: 81, host_port: 8081, range: 1, protocol: 'udp' },
  ]);
});

test('inspectPorts and listPorts: exposed ports null, bindings as Docker without its proxy shows them', () => {
  const config = cfg(['80/tcp', '443/tcp', '53/udp']);
  const mappings: PortMapping[] = [
    { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
  ];
  const ports = inspectPorts(config, mappings);
  assert.deepEqual(Object.keys(ports), ['443/tcp', '53/udp', '80/tcp']);
  assert.deepEqual(ports, {
    '443/tcp': null,
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
  });
  assert.deepEqual(inspectPorts(config, mappings, { ipv6: true })['80/tcp'], [
    { HostIp: '0.0.0.0', HostPort: '8080' },
    { HostIp: '::', HostPort: '8080' },
  ]);
  assert.deepEqual(inspectPorts(config, null), {});
  assert.deepEqual(listPorts(config, mappings), [
    { PrivatePort: 443, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
  ]);
  assert.deepEqual(listPorts(config, null), []);
});

test('publish and expose filters: moby texts, ranges, matched on listed ports', () => {
  assert.throws(() => parsePortFilter('publish', ['127.0.0.1:80']), /^InvalidParameterError: filter for 'publish' should not contain ':': 127.0.0.1:80$/);
  assert.throws(() => parsePortFilter('expose', ['x']), (e: Error) => e.message === `error while looking up for expose x: strconv.ParseUint: parsing "x": invalid syntax`);
  const ports = listPorts(cfg(['80/tcp', '53/udp']), [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.equal(portFiltersMatch(ports, parsePortFilter('publish', ['8080']), new Set()), true);
  assert.equal(portFiltersMatch(ports, parsePortFilter('publish', ['8080/udp']), new Set()), false);
  assert.equal(portFiltersMatch(ports, parsePortFilter('publish', ['8000-8100/tcp']), new Set()), true);
  assert.equal(portFiltersMatch(ports, parsePortFilter('publish', ['80']), new Set()), false);
  assert.equal(portFiltersMatch(ports, new Set(), parsePortFilter('expose', ['53/udp'])), true);
  assert.equal(portFiltersMatch(ports, new Set(), parsePortFilter('expose', ['8080'])), false);
});

test('filterContainers: publish/expose keep the containers whose listed ports match', async () => {
  const { filterContainers } = await import('../../src/engine/containers/filters.js');
  const rec = (id: string, created: string) =>
    ({ id, name: `/${id}`, created, imageId: '', state: { Status: 'running' }, config: { Labels: {} }, hostConfig: hc() }) as unknown as import('../../src/engine/containers/model.js').ContainerRecord;
  const a = rec('a', '2026-01-01T00:00:00Z');
  const b = rec('b', '2026-01-02T00:00:00Z');
  const ports = (c: { id: string }) =>
    c.id === 'a' ? listPorts(cfg(['80/tcp']), [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]) : listPorts(cfg(['53/udp']), []);
  const run = (filters: [string, string[]][]) =>
    filterContainers([a, b], { all: true, limit: -1, filters: new Map(filters), imageId: () => undefined, container: () => a, ports }).map((c) => c.id);
  assert.deepEqual(run([['publish', ['8080']]]), ['a']);
  assert.deepEqual(run([['expose', ['53/udp']]]), ['b']);
  assert.deepEqual(run([['expose', ['80']], ['publish', ['9999']]]), ['a']);
  assert.deepEqual(run([['publish', ['80']]]), []);
  assert.throws(() => run([['publish', ['1:2']]]), /filter for 'publish' should not contain ':': 1:2/);
});
