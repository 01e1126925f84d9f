// The network and container-network JSON shapes, checked against what moby 28 prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import type { EndpointRecord, NetworkRecord } from '../../src/engine/networks/model.js';
import { networkView } from '../../src/engine/networks/views.js';
import { listNetworks, networkSettings } from '../../src/engine/networks/container-settings.js';

const ID = 'a'.repeat(64);
const CID = '86807880edd5053aa2d86142b4a9297d7c3b4c6c36abb0b8ae7da03043ce9db5';

function net(over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: ID,
    name: 'n1',
    driver: 'bridge',
    created: '2026-11-29T16:52:55.692961057Z',
    internal: false,
    attachable: false,
    enableIPv6: false,
    ipam: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.213.7.0/24', Gateway: '10.213.7.1' }] },
    options: {},
    labels: {},
    bridge: 'berth-1',
    dnsEnabled: true,
    ...over,
  };
}

function ep(over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    containerId: CID,
    networkId: ID,
    endpointId: 'e'.repeat(64),
    requestedIp: '',
    ipAddress: '10.213.7.2',
    prefixLen: 24,
    gateway: '10.213.7.1',
    macAddress: '02:42:0a:d5:07:02',
    aliases: [],
    links: [],
    interfaceName: 'eth0',
    driverOpts: {},
    ...over,
  };
}

function ctr(status: ContainerRecord['state']['Status'], networkMode = 'n1'): ContainerRecord {
  return {
    id: CID,
    name: '/c1',
    created: '2026-11-29T16:52:55Z',
    imageId: 'sha256:x',
    imageRef: 'busybox',
    config: { Hostname: CID.slice(0, 12), Labels: {} } as ContainerRecord['config'],
    hostConfig: { NetworkMode: networkMode } as ContainerRecord['hostConfig'],
    state: { Status: status, Pid: 1, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: '', FinishedAt: '' },
    restartCount: 0,
    path: 'sleep',
    args: [],
  };
}

describe('networkView', () => {
  it('prints a user-defined network as moby 28 does, Containers keyed by container ID', () => {
    const v = networkView(net({ labels: { a: 'b' }, options: { 'com.docker.network.driver.mtu': '1400' } }), [{ containerId: CID, containerName: '/c1', endpoint: ep() }]);
    assert.deepEqual(JSON.parse(JSON.stringify(v)), {
      Name: 'n1',
      Id: ID,
      Created: '2026-11-29T16:52:55.692961057Z',
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.213.7.0/24', Gateway: '10.213.7.1' }] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {
        [CID]: { Name: 'c1', EndpointID: 'e'.repeat(64), MacAddress: '02:42:0a:d5:07:02', IPv4Address: '10.213.7.2/24', IPv6Address: '' },
      },
      Options: { 'com.docker.network.driver.mtu': '1400' },
      Labels: { a: 'b' },
    });
    // The key order is Docker's too (tools diff outputs, the CLI's --format json prints it).
    assert.deepEqual(Object.keys(v), ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']);
  });

  it("maps come out with their keys sorted, as Go's encoding/json writes them", () => {
    const v = networkView(net({ labels: { z: '1', a: '2' }, options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.name': 'b' } }), [
      { containerId: 'f'.repeat(64), containerName: 'x', endpoint: ep() },
      { containerId: '0'.repeat(64), containerName: 'y', endpoint: ep() },
    ]);
    assert.deepEqual(Object.keys(v.Labels), ['a', 'z']);
    assert.deepEqual(Object.keys(v.Options), ['com.docker.network.bridge.name', 'com.docker.network.driver.mtu']);
    assert.deepEqual(Object.keys(v.Containers), ['0'.repeat(64), 'f'.repeat(64)]);
    const s = networkSettings(ctr('running'), { endpoints: [{ network: net({ name: 'zeta' }), endpoint: ep() }, { network: net({ name: 'alpha', id: 'c'.repeat(64) }), endpoint: ep() }] });
    assert.deepEqual(Object.keys(s.Networks), ['alpha', 'zeta']);
  });

  it('keeps IPRange and leaves unset pool fields out', () => {
    const v = networkView(net({ ipam: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.213.8.0/24', IPRange: '10.213.8.128/25' }] } }));
    assert.deepEqual(v.IPAM.Config, [{ Subnet: '10.213.8.0/24', IPRange: '10.213.8.128/25' }]);
    assert.deepEqual(v.Containers, {});
  });

  it('host and none have no IPAM config or options (null), empty Options and Labels', () => {
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      const v = networkView(net({ name, driver, ipam: { Driver: 'default', Options: {}, Config: [] }, bridge: '', dnsEnabled: false }));
      assert.deepEqual(v.IPAM, { Driver: 'default', Options: null, Config: null });
      assert.deepEqual(v.Options, {});
      assert.deepEqual(v.Labels, {});
    }
  });

  it('the default bridge has IPAM options null and its config', () => {
    const v = networkView(net({ name: 'bridge', options: { 'com.docker.network.bridge.default_bridge': 'true' } }));
    assert.equal(v.IPAM.Options, null);
    assert.deepEqual(v.IPAM.Config, [{ Subnet: '10.213.7.0/24', Gateway: '10.213.7.1' }]);
  });
});

describe('container NetworkSettings', () => {
  it('a running container on a user-defined network: Networks[name] with DNSNames, top-level fields empty', () => {
    const s = networkSettings(ctr('running'), { endpoints: [{ network: net(), endpoint: ep({ aliases: ['web'] }) }], sandbox: { id: 'f'.repeat(64), key: '/run/berth/netns/x' }, ports: {} });
    assert.equal(s.SandboxID, 'f'.repeat(64));
    assert.equal(s.SandboxKey, '/run/berth/netns/x');
    assert.equal(s.IPAddress, '');
    assert.equal(s.EndpointID, '');
    assert.deepEqual(s.Networks.n1, {
      IPAMConfig: null,
      Links: null,
      Aliases: ['web'],
      MacAddress: '02:42:0a:d5:07:02',
      DriverOpts: null,
      GwPriority: 0,
      NetworkID: ID,
      EndpointID: 'e'.repeat(64),
      Gateway: '10.213.7.1',
      IPAddress: '10.213.7.2',
      IPPrefixLen: 24,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: ['c1', 'web', CID.slice(0, 12)],
    });
  });

  it('API < 1.45 adds the short ID and hostname to a user-defined network Aliases', () => {
    const s = networkSettings(ctr('running'), { endpoints: [{ network: net(), endpoint: ep() }], apiVersion: '1.41' });
    assert.deepEqual(s.Networks.n1!.Aliases, [CID.slice(0, 12)]);
  });

  it('the default bridge: top-level IPAddress/Gateway/MacAddress/IPPrefixLen/EndpointID, no DNSNames', () => {
    const bridge = net({ name: 'bridge', id: 'b'.repeat(64), dnsEnabled: false });
    const s = networkSettings(ctr('running', 'bridge'), { endpoints: [{ network: bridge, endpoint: ep({ networkId: bridge.id }) }] });
    assert.equal(s.IPAddress, '10.213.7.2');
    assert.equal(s.Gateway, '10.213.7.1');
    assert.equal(s.IPPrefixLen, 24);
    assert.equal(s.MacAddress, '02:42:0a:d5:07:02');
    assert.equal(s.EndpointID, 'e'.repeat(64));
    assert.equal(s.Networks.bridge!.DNSNames, null);
  });

  it('a stopped container keeps NetworkID and its config, loses the operational fields', () => {
    const s = networkSettings(ctr('exited'), { endpoints: [{ network: net(), endpoint: ep({ requestedIp: '10.213.7.9' }) }], sandbox: { id: 'x', key: 'y' } });
    const n = s.Networks.n1!;
    assert.equal(s.SandboxID, '');
    assert.equal(s.SandboxKey, '');
    assert.equal(n.NetworkID, ID);
    assert.deepEqual(n.IPAMConfig, { IPv4Address: '10.213.7.9' });
    assert.equal(n.IPAddress, '');
    assert.equal(n.EndpointID, '');
    assert.equal(n.MacAddress, '');
    assert.equal(n.IPPrefixLen, 0);
  });

  it('host mode without an endpoint row shows the host network by its ID; container: mode shows none', () => {
    const host = net({ name: 'host', driver: 'host', id: 'h'.repeat(64) });
    const s = networkSettings(ctr('running', 'host'), { endpoints: [], modeNetwork: host });
    assert.deepEqual(Object.keys(s.Networks), ['host']);
    assert.equal(s.Networks.host!.NetworkID, 'h'.repeat(64));
    assert.equal(s.Networks.host!.DNSNames, null);
    assert.deepEqual(networkSettings(ctr('running', 'container:abc'), { endpoints: [] }).Networks, {});
  });

  it('list keeps only the summary fields', () => {
    const l = listNetworks(ctr('running'), { endpoints: [{ network: net(), endpoint: ep({ aliases: ['web'], requestedIp: '10.213.7.2' }) }] }) as Record<string, Record<string, unknown>>;
    assert.equal(l.n1!.Aliases, null);
    assert.equal(l.n1!.DNSNames, null);
    assert.deepEqual(l.n1!.IPAMConfig, { IPv4Address: '10.213.7.2' });
    assert.equal(l.n1!.IPAddress, '10.213.7.2');
  });
});
