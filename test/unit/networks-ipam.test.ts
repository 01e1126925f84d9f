import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allocateAddress,
  checkNoOverlap,
  checkRequestedAddress,
  completePool,
  DEFAULT_ADDRESS_POOLS,
  formatCidr,
  parseBip,
  parseCidr,
  parseProcRoutes,
  pickSubnet,
  validateIpamConfig,
} from '../../src/engine/networks/ipam.js';
import { NetworkStore } from '../../src/engine/networks/store.js';
import type { EndpointRecord, NetworkRecord } from '../../src/engine/networks/model.js';
import { ForbiddenError, InvalidParameterError } from '../../src/errors.js';
import { ConfigError, parseDaemonArgs } from '../../src/engine/system/daemon-config.js';

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
vpn0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;

describe('networks ipam: subnets', () => {
  it('reads the host routes without the default route', () => {
    assert.deepEqual(parseProcRoutes(ROUTES).map(formatCidr), ['172.17.0.0/16', '172.18.0.0/16', '192.0.2.0/24']);
  });

  it('skips subnets that overlap a host route, another network or 172.17.0.0/16', () => {
    const routes = parseProcRoutes(ROUTES);
    assert.equal(formatCidr(pickSubnet(DEFAULT_ADDRESS_POOLS, routes)!), '172.19.0.0/16');
    // 172.17 is never taken even where no route shows it
    assert.equal(formatCidr(pickSubnet([{ base: '172.16.0.0/12', size: 16 }], [])!), '172.16.0.0/16');
    assert.equal(formatCidr(pickSubnet([{ base: '172.17.0.0/16', size: 24 }, { base: '10.5.0.0/16', size: 24 }], [])!), '10.5.0.0/24');
    const used = [parseCidr('10.5.0.0/24')!, parseCidr('10.5.1.128/25')!];
    assert.equal(formatCidr(pickSubnet([{ base: '10.5.0.0/16', size: 24 }], used)!), '10.5.2.0/24');
  });

  it('says so when the pools are exhausted', () => {
    assert.equal(pickSubnet([{ base: '10.9.0.0/23', size: 24 }], [parseCidr('10.9.0.0/23')!]), undefined);
  });

  it('validates IPAM configs with moby 28 texts', () => {
    assert.throws(() => validateIpamConfig([{ Subnet: '10.1.2.3/24' }]), (e: Error) => e instanceof InvalidParameterError && e.message === 'invalid network config:\ninvalid subnet 10.1.2.3/24: it should be 10.1.2.0/24');
    assert.throws(() => validateIpamConfig([{ Subnet: 'banana' }]), /invalid subnet banana: invalid CIDR block notation/);
    assert.throws(
      () => validateIpamConfig([{ Subnet: '10.1.2.0/24', Gateway: '10.1.3.1', IPRange: '10.1.0.0/16' }]),
      (e: Error) =>
        e.message ===
        'invalid network config:\n* invalid ip-range 10.1.0.0/16: CIDR block is bigger than its parent subnet 10.1.2.0/24\n* invalid gateway 10.1.3.1: parent subnet 10.1.2.0/24 doesn\'t contain this address',
    );
    validateIpamConfig([{ Subnet: '10.1.2.0/24', Gateway: '10.1.2.254', IPRange: '10.1.2.128/25' }]);
  });

  it('refuses overlapping networks with Docker\'s 403', () => {
    assert.throws(() => checkNoOverlap(parseCidr('10.1.0.0/16')!, [parseCidr('10.1.2.0/24')!]), (e: Error) => e instanceof ForbiddenError && e.message === 'invalid pool request: Pool overlaps with other one on this address space');
    checkNoOverlap(parseCidr('10.2.0.0/16')!, [parseCidr('10.1.2.0/24')!]);
  });

  it('parses bip as the gateway with its prefix', () => {
    assert.deepEqual(parseBip('192.168.5.1/24'), { Subnet: '192.168.5.0/24', Gateway: '192.168.5.1' });
    assert.deepEqual(parseBip('10.20.0.254/16'), { Subnet: '10.20.0.0/16', Gateway: '10.20.0.254' });
    assert.equal(parseBip('10.20.0.0/16'), undefined);
    assert.equal(parseBip('nonsense'), undefined);
  });
});

describe('networks ipam: addresses', () => {
  it('gives the first address to the gateway and the next ones to containers', () => {
    const pool = completePool({ Subnet: '10.7.0.0/24' });
    assert.equal(pool.Gateway, '10.7.0.1');
    assert.equal(allocateAddress(pool, new Set()), '10.7.0.2');
    assert.equal(allocateAddress(pool, new Set(['10.7.0.2', '10.7.0.3'])), '10.7.0.4');
  });

  it('stays inside the ip-range and skips a gateway placed there', () => {
    const pool = completePool({ Subnet: '10.7.0.0/24', IPRange: '10.7.0.128/30', Gateway: '10.7.0.129' });
    assert.equal(allocateAddress(pool, new Set()), '10.7.0.128');
    assert.equal(allocateAddress(pool, new Set(['10.7.0.128'])), '10.7.0.130');
    assert.equal(allocateAddress(pool, new Set(['10.7.0.128', '10.7.0.130', '10.7.0.131'])), undefined);
  });

  it('never hands out the broadcast address', () => {
    const pool = completePool({ Subnet: '10.7.0.0/30' });
    assert.equal(allocateAddress(pool, new Set(['10.7.0.2'])), undefined);
  });

  it('checks a requested address', () => {
    const pool = completePool({ Subnet: '10.7.0.0/24', IPRange: '10.7.0.0/25' });
    checkRequestedAddress(pool, '10.7.0.50', new Set());
    assert.throws(() => checkRequestedAddress(pool, '10.8.0.5', new Set()), /no configured subnet or ip-range contain the IP address 10.8.0.5/);
    assert.throws(() => checkRequestedAddress(pool, '10.7.0.200', new Set()), /no configured subnet or ip-range contain the IP address/);
    assert.throws(() => checkRequestedAddress(pool, '10.7.0.50', new Set(['10.7.0.50'])), (e: Error) => e instanceof ForbiddenError && e.message === 'Address already in use');
    assert.throws(() => checkRequestedAddress(pool, '10.7.0.1', new Set()), /Address already in use/);
  });
});

describe('networks daemon config', () => {
  it('reads bridge, bip and default-address-pools flags', () => {
    const c = parseDaemonArgs(['--bridge', 'bt0', '--bip', '10.44.0.1/24', '--default-address-pool', 'base=10.45.0.0/16,size=24']);
    assert.equal(c.bridge, 'bt0');
    assert.equal(c.bip, '10.44.0.1/24');
    assert.deepEqual(c.defaultAddressPools, [{ base: '10.45.0.0/16', size: 24 }]);
    assert.equal(parseDaemonArgs([]).bridge, 'berth0');
    assert.throws(() => parseDaemonArgs(['--bridge', 'docker0']), ConfigError);
    assert.throws(() => parseDaemonArgs(['--bip', '10.0.0.0/8']), ConfigError);
    assert.throws(() => parseDaemonArgs(['--default-address-pool', 'base=10.0.0.0/16,size=8']), ConfigError);
  });

  it('reads them from daemon.json, flags winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ bip: '10.46.0.1/24', bridge: 'cfgbr0', 'default-address-pools': [{ base: '10.47.0.0/16', size: 26 }] }));
    try {
      const c = parseDaemonArgs(['--config-file', file]);
      assert.deepEqual([c.bip, c.bridge, c.defaultAddressPools], ['10.46.0.1/24', 'cfgbr0', [{ base: '10.47.0.0/16', size: 26 }]]);
      assert.equal(parseDaemonArgs(['--config-file', file, '--bridge', 'flagbr']).bridge, 'flagbr');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('daemon mtu', () => {
  it('reads --mtu and daemon.json mtu, 0 meaning Docker\'s 1500, flags winning', () => {
    assert.equal(parseDaemonArgs([]).mtu, 1500);
    assert.equal(parseDaemonArgs(['--mtu', '9000']).mtu, 9000);
    assert.equal(parseDaemonArgs(['--mtu=0']).mtu, 1500);
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'daemon.json');
    try {
      writeFileSync(file, JSON.stringify({ mtu: 1400 }));
      assert.equal(parseDaemonArgs(['--config-file', file]).mtu, 1400);
      assert.equal(parseDaemonArgs(['--config-file', file, '--mtu', '1300']).mtu, 1300);
      writeFileSync(file, JSON.stringify({ mtu: 0 }));
      assert.equal(parseDaemonArgs(['--config-file', file]).mtu, 1500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what dockerd refuses, with its words', () => {
    assert.throws(() => parseDaemonArgs(['--mtu', 'abc']), { message: 'invalid argument "abc" for "--mtu" flag: strconv.ParseInt: parsing "abc": invalid syntax' });
    assert.throws(() => parseDaemonArgs(['--mtu', '-10']), { message: 'invalid default MTU: -10' });
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'daemon.json');
    try {
      writeFileSync(file, '{"mtu": "abc"}');
      assert.throws(() => parseDaemonArgs(['--config-file', file]), { message: `unable to configure the daemon with file ${file}: json: cannot unmarshal string into Go struct field Config.mtu of type int` });
      writeFileSync(file, '{"mtu": 1.5}');
      assert.throws(() => parseDaemonArgs(['--config-file', file]), /cannot unmarshal number 1\.5 into Go struct field Config\.mtu of type int/);
      writeFileSync(file, '{"mtu": -5}');
      assert.throws(() => parseDaemonArgs(['--config-file', file]), (e: Error) => e instanceof ConfigError && e.message === 'invalid default MTU: -5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('networks store', () => {
  const net = (id: string, name: string): NetworkRecord => ({
    id,
    name,
    driver: 'bridge',
    created: '2026-01-01T00:00:00.000000000Z',
    internal: false,
    attachable: false,
    enableIPv6: false,
    ipam: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }] },
    options: {},
    labels: {},
    bridge: 'br-' + id.slice(0, 12),
    dnsEnabled: true,
  });
  const ep = (containerId: string, networkId: string, ifname: string): EndpointRecord => ({
    containerId,
    networkId,
    endpointId: '',
    requestedIp: '',
    ipAddress: '',
    prefixLen: 0,
    gateway: '',
    macAddress: '',
    aliases: [],
    links: [],
    interfaceName: ifname,
    driverOpts: {},
  });

  it('keeps networks, endpoints and sandboxes across a reopen', () => {
    const db = new Database(':memory:');
    const s = new NetworkStore(db);
    s.insertNetwork(net('a'.repeat(64), 'front'));
    s.insertNetwork(net('b'.repeat(64), 'back'));
    assert.throws(() => s.insertNetwork(net('c'.repeat(64), 'front')), /UNIQUE/);
    s.saveEndpoints([ep('c1', 'b'.repeat(64), 'eth1'), ep('c1', 'a'.repeat(64), 'eth0')]);
    s.saveEndpoint(ep('c2', 'a'.repeat(64), 'eth0'));
    s.saveSandbox({ containerId: 'c1', netnsPath: '/run/x/netns/c1', ports: [] });
    const again = new NetworkStore(db);
    assert.equal(again.networkByName('front')?.id, 'a'.repeat(64));
    assert.deepEqual(again.endpointsOf('c1').map((e) => e.interfaceName), ['eth0', 'eth1']);
    assert.equal(again.endpointsOn('a'.repeat(64)).length, 2);
    assert.equal(again.sandbox('c1')?.netnsPath, '/run/x/netns/c1');
    // a removed network leaves the endpoints of stopped containers (no foreign key)
    again.deleteNetwork('b'.repeat(64));
    assert.equal(new NetworkStore(db).endpointsOf('c1').length, 2);
    again.deleteEndpointsOf('c1');
    again.deleteSandbox('c1');
    assert.equal(new NetworkStore(db).endpointsOf('c1').length, 0);
    assert.equal(new NetworkStore(db).sandbox('c1'), undefined);
  });
});
