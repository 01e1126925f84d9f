import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNetwork, type CreateContext } from '../../src/engine/networks/create-network.js';
import { endpointRequest, endpointsConfigOf } from '../../src/engine/networks/endpoint-config.js';
import { parseCidr } from '../../src/engine/networks/ipam.js';
import type { EndpointRecord, NetworkRecord } from '../../src/engine/networks/model.js';
import { netavarkOptions } from '../../src/engine/networks/netavark-options.js';
import { netavarkErrorText } from '../../src/runtime/netavark/netavark.js';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../../src/errors.js';

const ctx = (existing: NetworkRecord[] = []): CreateContext => ({
  existing,
  pools: [{ base: '10.150.0.0/16', size: 24 }],
  routes: [parseCidr('10.150.0.0/24')!],
});

describe('networks: network create', () => {
  it('picks a subnet past the host routes, names the bridge br-<12 of id>, gateway first address', () => {
    const n = buildNetwork({ Name: 'front', Labels: { a: 'b' }, Internal: true }, ctx());
    assert.deepEqual(n.ipam.Config, [{ Subnet: '10.150.1.0/24', Gateway: '10.150.1.1' }]);
    assert.equal(n.bridge, `br-${n.id.slice(0, 12)}`);
    assert.match(n.id, /^[0-9a-f]{64}$/);
    assert.match(n.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal(n.internal, true);
    assert.equal(n.dnsEnabled, true);
    assert.equal(n.userSubnet, false);
    const next = buildNetwork({ Name: 'back' }, ctx([n]));
    assert.equal(next.ipam.Config[0].Subnet, '10.150.2.0/24');
  });

  it('honours the bridge name and MTU options and refuses a bad one', () => {
    const n = buildNetwork({ Name: 'x', Options: { 'com.docker.network.bridge.name': 'mybr0', 'com.docker.network.driver.mtu': '1400' } }, ctx());
    assert.equal(n.bridge, 'mybr0');
    assert.equal(netavarkOptions('c', 'n', [{ network: n, endpoint: ep(n.id, '10.150.1.2'), names: ['n'] }], []).network_info[n.id].options?.mtu, '1400');
    assert.throws(() => buildNetwork({ Name: 'y', Options: { 'com.docker.network.bridge.name': 'mybr0' } }, ctx([n])), ForbiddenError);
    assert.throws(() => buildNetwork({ Name: 'z', Options: { 'com.docker.network.driver.mtu': 'big' } }, ctx()), InvalidParameterError);
  });

  it('refuses names and drivers as moby does', () => {
    const n = buildNetwork({ Name: 'taken' }, ctx());
    assert.throws(() => buildNetwork({ Name: 'taken' }, ctx([n])), (e: Error) => e instanceof ConflictError && e.message === 'network with name taken already exists');
    assert.throws(() => buildNetwork({ Name: 'bridge' }, ctx()), (e: Error) => e instanceof ForbiddenError && e.message === 'operation is not permitted on predefined bridge network ');
    assert.throws(() => buildNetwork({ Name: 'h', Driver: 'host' }, ctx()), /only one instance of "host" network is allowed/);
    assert.throws(() => buildNetwork({ Name: 'o', Driver: 'overlay' }, ctx()), NotFoundError);
  });

  it('a user subnet overlapping another network is the 403, a user subnet may overlap a host route', () => {
    const n = buildNetwork({ Name: 'a', IPAM: { Config: [{ Subnet: '10.160.0.0/16' }] } }, ctx());
    assert.equal(n.userSubnet, true);
    assert.throws(() => buildNetwork({ Name: 'b', IPAM: { Config: [{ Subnet: '10.160.5.0/24' }] } }, ctx([n])), /Pool overlaps with other one on this address space/);
    buildNetwork({ Name: 'c', IPAM: { Config: [{ Subnet: '10.150.0.0/24' }] } }, ctx([n]));
  });

  it('says so when the pools are exhausted', () => {
    const full: CreateContext = { existing: [], pools: [{ base: '10.150.0.0/24', size: 24 }], routes: [parseCidr('10.150.0.0/24')!] };
    assert.throws(() => buildNetwork({ Name: 'a' }, full), /could not find an available, non-overlapping IPv4 address pool/);
  });
});

describe('networks: endpoint settings', () => {
  const user = buildNetwork({ Name: 'u', IPAM: { Config: [{ Subnet: '10.170.0.0/24' }] } }, ctx());
  const auto = buildNetwork({ Name: 'auto' }, ctx());
  const bridge = { ...user, name: 'bridge' };

  it('refuses --ip and aliases off user-defined networks, --ip without a user subnet', () => {
    assert.throws(() => endpointRequest(bridge, { IPAMConfig: { IPv4Address: '10.170.0.5' } }), (e: Error) => e.message === 'invalid endpoint settings:\nuser specified IP address is supported on user defined networks only');
    assert.throws(() => endpointRequest(bridge, { Aliases: ['x'] }), /network-scoped alias is supported only for containers in user defined networks/);
    assert.throws(() => endpointRequest(auto, { IPAMConfig: { IPv4Address: '10.150.1.9' } }), /user specified IP address is supported only when connecting to networks with user configured subnets/);
    assert.throws(() => endpointRequest(user, { IPAMConfig: { IPv4Address: 'nope' } }), /invalid IPv4 address: nope/);
    assert.throws(() => endpointRequest(user, { MacAddress: 'zz' }), /invalid MAC address zz/);
  });

  it('keeps what a user network accepts', () => {
    assert.deepEqual(endpointRequest(user, { IPAMConfig: { IPv4Address: '10.170.0.5' }, Aliases: ['db'], Links: ['a:b'], MacAddress: '02-42-AC-11-00-02' }), {
      requestedIp: '10.170.0.5',
      aliases: ['db'],
      links: ['a:b'],
      macAddress: '02:42:ac:11:00:02',
      driverOpts: {},
    });
    assert.deepEqual(endpointsConfigOf(null), {});
    assert.deepEqual(endpointsConfigOf({ EndpointsConfig: { u: {} } }), { u: {} });
    assert.throws(() => endpointsConfigOf({ EndpointsConfig: [] }), InvalidParameterError);
  });
});

describe('networks: netavark JSON', () => {
  it('keys networks by id, gives static IPs, aliases only where DNS is on, and the ports', () => {
    const n = buildNetwork({ Name: 'front' }, ctx());
    const opts = netavarkOptions('cid', 'web', [{ network: n, endpoint: ep(n.id, '10.150.1.2'), names: ['web', 'cid'] }], [
      { host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' },
    ]);
    // netavark gives aardvark-dns container_name itself: the aliases are the other names
    assert.deepEqual(opts.networks[n.id], { interface_name: 'eth0', static_ips: ['10.150.1.2'], aliases: ['cid'] });
    assert.equal(opts.network_info[n.id].name, n.id);
    assert.equal(opts.network_info[n.id].network_interface, n.bridge);
    assert.deepEqual(opts.network_info[n.id].subnets, [{ subnet: '10.150.1.0/24', gateway: '10.150.1.1' }]);
    assert.equal(opts.port_mappings?.length, 1);
    const quiet = netavarkOptions('cid', 'web', [{ network: { ...n, dnsEnabled: false }, endpoint: ep(n.id, '10.150.1.2'), names: ['web'] }], []);
    assert.equal(quiet.networks[n.id].aliases, undefined);
    assert.equal(quiet.port_mappings, undefined);
    // --dns: the container's own upstreams for aardvark-dns
    assert.deepEqual(netavarkOptions('cid', 'web', [], [], ['10.9.9.9']).dns_servers, ['10.9.9.9']);
    assert.equal(quiet.dns_servers, undefined);
  });

  it('reads netavark\'s error JSON', () => {
    assert.equal(netavarkErrorText('{"error":"IO error: boom"}', '', 1), 'netavark: IO error: boom');
    assert.equal(netavarkErrorText('', 'failed to connect to syslog: x\nreal trouble\n', 2), 'netavark failed (exit 2): real trouble');
  });
});

function ep(networkId: string, ip: string): EndpointRecord {
  return { containerId: 'cid', networkId, endpointId: 'e'.repeat(64), requestedIp: '', ipAddress: ip, prefixLen: 24, gateway: '', macAddress: '', aliases: [], links: [], interfaceName: 'eth0', driverOpts: {} };
}
