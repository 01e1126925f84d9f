// Network list/prune filters and name/ID lookup with moby's semantics and texts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetworkRecord } from '../../src/engine/networks/model.js';
import { listFilter } from '../../src/engine/networks/filters.js';
import { findNetwork } from '../../src/engine/networks/lookup.js';
import { pruneNetworks } from '../../src/engine/networks/prune.js';
import { parseNetworkCreate } from '../../src/engine/networks/create-request.js';
import { checkEndpointSettings } from '../../src/engine/networks/endpoint-settings-json.js';
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../../src/errors.js';

function net(name: string, id: string, over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: id.padEnd(64, '0'),
    name,
    driver: name === 'host' ? 'host' : name === 'none' ? 'null' : 'bridge',
    created: '2026-01-01T00:00:00.000000000Z',
    internal: false,
    attachable: false,
    enableIPv6: false,
    ipam: { Driver: 'default', Options: {}, Config: [] },
    options: {},
    labels: {},
    bridge: '',
    dnsEnabled: false,
    ...over,
  };
}

const ALL = [
  net('bridge', 'b1'),
  net('host', 'c1'),
  net('none', 'd1'),
  net('front', 'e1', { labels: { tier: 'web', env: 'prod' } }),
  net('back', 'e2', { labels: { tier: 'db' }, created: '2030-01-01T00:00:00Z' }),
];
const used = new Set(['front', 'bridge']);

function names(filters: Record<string, string[]>): string[] {
  const f = listFilter(new Map(Object.entries(filters)));
  return ALL.filter((n) => f(n, used.has(n.name))).map((n) => n.name);
}

describe('listFilter', () => {
  it('driver, name (regexp), id (regexp), label, scope', () => {
    assert.deepEqual(names({ driver: ['bridge'] }), ['bridge', 'front', 'back']);
    assert.deepEqual(names({ driver: ['null'] }), ['none']);
    assert.deepEqual(names({ name: ['^b'] }), ['bridge', 'back']);
    assert.deepEqual(names({ name: ['ack'] }), ['back']);
    assert.deepEqual(names({ id: ['e'] }), ['front', 'back']);
    assert.deepEqual(names({ id: ['e2'] }), ['back']);
    assert.deepEqual(names({ label: ['tier'] }), ['front', 'back']);
    assert.deepEqual(names({ label: ['tier=web', 'env=prod'] }), ['front']);
    assert.deepEqual(names({ scope: ['local'] }).length, 5);
    assert.deepEqual(names({ scope: ['swarm'] }), []);
  });

  it('type=builtin|custom and dangling', () => {
    assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(names({ type: ['custom'] }), ['front', 'back']);
    assert.deepEqual(names({ type: ['custom', 'builtin'] }).length, 5);
    assert.deepEqual(names({ dangling: ['true'] }), ['back']);
    assert.deepEqual(names({ dangling: ['0'] }), ['bridge', 'host', 'none', 'front']);
  });

  it("moby's errors", () => {
    assert.throws(() => names({ foo: ['x'] }), { name: 'InvalidParameterError', message: "invalid filter 'foo'" });
    assert.throws(() => names({ type: ['x'] }), { message: "invalid filter: 'type'='x'" });
    assert.throws(() => names({ dangling: ['maybe'] }), { message: `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")` });
    assert.throws(() => names({ dangling: ['1', '0'] }), { message: 'got more than one value for filter key "dangling"' });
    assert.throws(() => names({ until: ['1h'] }), { message: "invalid filter 'until'" });
  });
});

describe('pruneNetworks', () => {
  const run = async (filters: Record<string, string[]>) => {
    const removed: string[] = [];
    const report = await pruneNetworks(
      { list: () => ALL, inUse: (n) => used.has(n.name), remove: async (n) => void removed.push(n.name), warn: () => {} },
      new Map(Object.entries(filters)),
    );
    return { report, removed };
  };

  it('removes unused user-defined networks only, reporting names', async () => {
    const { report, removed } = await run({});
    assert.deepEqual(removed, ['back']);
    assert.deepEqual(report, { NetworksDeleted: ['back'] });
  });

  it('until, label, label!; nothing removed is a null list', async () => {
    assert.deepEqual((await run({ until: ['2029-01-01T00:00:00Z'] })).report, { NetworksDeleted: null });
    assert.deepEqual((await run({ label: ['tier=db'] })).removed, ['back']);
    assert.deepEqual((await run({ 'label!': ['tier=db'] })).removed, []);
    await assert.rejects(run({ dangling: ['true'] }), { message: "invalid filter 'dangling'" });
  });
});

describe('findNetwork', () => {
  it('full ID, then exact name, then a unique ID prefix', () => {
    const list = [net('e1x', 'f1'), net('other', 'e1')];
    assert.equal(findNetwork(list, 'e1x').name, 'e1x');
    assert.equal(findNetwork(list, 'e1').name, 'other');
    assert.equal(findNetwork(list, list[0]!.id).name, 'e1x');
    assert.equal(findNetwork(list, 'f').name, 'e1x');
  });

  it('ambiguous prefixes and unknown names have moby texts', () => {
    const list = [net('a', 'ab1'), net('b', 'ab2')];
    assert.throws(() => findNetwork(list, 'ab'), (e: Error) => e instanceof InvalidParameterError && e.message === 'network ab is ambiguous (2 matches found based on ID prefix)');
    assert.throws(() => findNetwork(list, 'ab', 'inspect'), { message: '2 matches found based on ID prefix: network ab is ambiguous' });
    assert.throws(() => findNetwork(list, 'zz'), (e: Error) => e instanceof NotFoundError && e.message === 'network zz not found');
    assert.throws(() => findNetwork(list, ''), NotFoundError);
  });
});

describe('parseNetworkCreate', () => {
  it('decodes the docker CLI body', () => {
    const r = parseNetworkCreate({
      Name: 'n1',
      Driver: 'bridge',
      Scope: '',
      EnableIPv6: null,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.1.0.0/24', IPRange: '10.1.0.128/25', Gateway: '10.1.0.1' }] },
      Internal: true,
      Attachable: true,
      Ingress: false,
      ConfigOnly: false,
      ConfigFrom: null,
      Options: { 'com.docker.network.bridge.name': 'br-test' },
      Labels: { a: 'b' },
    });
    assert.deepEqual(r, {
      Name: 'n1',
      Driver: 'bridge',
      Internal: true,
      Attachable: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.1.0.0/24', IPRange: '10.1.0.128/25', Gateway: '10.1.0.1' }] },
      Options: { 'com.docker.network.bridge.name': 'br-test' },
      Labels: { a: 'b' },
    });
    assert.equal(parseNetworkCreate({ Name: 'x' }).Driver, 'bridge');
  });

  it("refuses what moby refuses, in its words and statuses", () => {
    const err = (body: unknown, cls: new (...a: never[]) => Error, message: string) =>
      assert.throws(() => parseNetworkCreate(body), (e: Error) => e instanceof cls && e.message === message);
    err({ Name: 'x', Driver: 'foo' }, NotFoundError, 'plugin "foo" not found');
    err({ Name: 'x', IPAM: { Driver: 'foo' } }, NotFoundError, 'plugin "foo" not found');
    err({ Name: 'host' }, ForbiddenError, 'operation is not permitted on predefined host network ');
    err({ Name: 'x', Driver: 'host' }, ForbiddenError, 'only one instance of "host" network is allowed');
    err({ Name: 'x', Driver: 'overlay' }, ForbiddenError, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
    err({ Name: '' }, InvalidParameterError, 'invalid name: name is empty');
    err({ Name: 5 }, InvalidParameterError, 'json: cannot unmarshal number into Go struct field CreateRequest.Name of type string');
    err({ Name: 'x', Labels: { a: 1 } }, InvalidParameterError, 'json: cannot unmarshal number into Go struct field CreateRequest.Labels.a of type string');
    err({ Name: 'x', Options: { 'com.docker.network.enable_ipv6': 'maybe' } }, InvalidParameterError, 'driver-opt "com.docker.network.enable_ipv6" is not a valid bool');
  });
});

describe('checkEndpointSettings', () => {
  it('accepts what the CLI and docker-py send, refuses wrong types in Go words', () => {
    checkEndpointSettings(null, 'X');
    checkEndpointSettings({ IPAMConfig: { IPv4Address: '10.0.0.2' }, Aliases: ['a'], Links: null, DriverOpts: {}, MacAddress: '' }, 'X');
    assert.throws(() => checkEndpointSettings({ Aliases: 'web' }, 'ConnectOptions.EndpointConfig'), {
      message: 'json: cannot unmarshal string into Go struct field ConnectOptions.EndpointConfig.Aliases of type []string',
    });
    assert.throws(() => checkEndpointSettings({ IPAMConfig: { IPv4Address: 5 } }, 'X'), { message: 'json: cannot unmarshal number into Go struct field X.IPAMConfig.IPv4Address of type string' });
    assert.throws(() => checkEndpointSettings([], 'X'), InvalidParameterError);
    assert.throws(() => checkEndpointSettings({ DriverOpts: { a: 1 } }, 'X'), InvalidParameterError);
  });
});
