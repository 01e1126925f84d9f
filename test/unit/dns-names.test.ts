// DNS names on user-defined networks, aardvark-dns' config lines and the embedded DNS rules.
// Pure functions, plus updateAardvarkNames on a temporary directory (no daemon, no aardvark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aardvarkNames, endpointDnsNames, linkAliasesFor, parseLink, shortId } from '../../src/engine/networks/dns/names.js';
import { namesIn, replaceNames, updateAardvarkNames } from '../../src/runtime/netavark/aardvark-records.js';
import { embeddedDnsRules } from '../../src/engine/networks/dns/embedded-dns.js';
import { ContainerDns } from '../../src/engine/networks/dns/container-dns.js';
import type { EndpointRecord, NetworkRecord } from '../../src/engine/networks/model.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import { defaultBridgeLinks, linkHostEntries, validateLinks, type LinkedContainer } from '../../src/engine/networks/dns/links.js';

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';

test("DNSNames as moby 28's buildEndpointDNSNames: name, aliases, short id, hostname, each once", () => {
  assert.equal(shortId(ID), '0123456789ab');
  assert.deepEqual(endpointDnsNames({ id: ID, name: '/web', hostname: '0123456789ab' }, ['www', 'web']), ['web', 'www', '0123456789ab']);
  assert.deepEqual(endpointDnsNames({ id: ID, name: 'web', hostname: 'myhost' }, []), ['web', '0123456789ab', 'myhost']);
});

test('links: moby ParseLink forms; the aliases a container gets from links on its network', () => {
  assert.deepEqual(parseLink('db:database'), { name: 'db', alias: 'database' });
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('/db:/web/database'), { name: 'db', alias: 'database' });
  assert.throws(() => parseLink('a:b:c'), /bad format for links: a:b:c/);
  const db = { id: ID, name: '/db', hostname: '' };
  assert.deepEqual(linkAliasesFor(db, [['db:database', 'cache:c'], ['0123456789ab:byid'], ['0123:short', 'bad:x:y'], ['other:o']]), ['database', 'byid']);
});

test('aardvark names: lowercased, deduplicated, nothing that would break its line', () => {
  const c = { id: ID, name: '/Web', hostname: 'WEB' };
  assert.deepEqual(aardvarkNames(c, ['Api', 'bad alias', 'a,b'], ['db', 'api']), ['web', 'api', '0123456789ab', 'db']);
});

const FILE = `10.89.0.1\n${ID} 10.89.0.2  web,0123456789ab\n${OTHER} 10.89.0.3  db,fedcba987654 10.9.9.9\n`;

test("aardvark config: one container's names replaced, the rest of the file as it was", () => {
  assert.equal(replaceNames(FILE, ID, ['web2', '0123456789ab']), `10.89.0.1\n${ID} 10.89.0.2  web2,0123456789ab\n${OTHER} 10.89.0.3  db,fedcba987654 10.9.9.9\n`);
  // the upstream servers column stays
  assert.equal(replaceNames(FILE, OTHER, ['db', 'x']), `10.89.0.1\n${ID} 10.89.0.2  web,0123456789ab\n${OTHER} 10.89.0.3  db,x 10.9.9.9\n`);
  assert.equal(replaceNames(FILE, '1'.repeat(64), ['x']), undefined);
  assert.deepEqual(namesIn(FILE, OTHER), ['db', 'fedcba987654']);
});

test('updateAardvarkNames: rewrites under the lock, leaves no temporary file, says when nothing changed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-dns-unit-'));
  try {
    const dir = join(root, 'aardvark-dns');
    await mkdir(dir);
    await writeFile(join(dir, 'net1'), FILE);
    assert.equal(await updateAardvarkNames(dir, 'net1', ID, ['renamed', '0123456789ab']), true);
    assert.deepEqual(namesIn(await readFile(join(dir, 'net1'), 'utf8'), ID), ['renamed', '0123456789ab']);
    assert.equal(await updateAardvarkNames(dir, 'net1', ID, ['renamed', '0123456789ab']), false);
    assert.equal(await updateAardvarkNames(dir, 'missing', ID, ['x']), false);
    assert.deepEqual((await readdir(root)).sort(), ['aardvark-dns', 'aardvark.lock']);
    assert.deepEqual(await readdir(dir), ['net1']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('embedded DNS rules: DNAT 127.0.0.11:53 to the gateway, SNAT loopback sources to the container', () => {
  assert.equal(
    embeddedDnsRules({ server: '10.89.0.1', containerIp: '10.89.0.2' }),
    [
      '*nat',
      '-A OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.89.0.1:53',
      '-A OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 10.89.0.1:53',
      '-A POSTROUTING -s 127.0.0.0/8 -d 10.89.0.1/32 -p udp -m udp --dport 53 -j SNAT --to-source 10.89.0.2',
      '-A POSTROUTING -s 127.0.0.0/8 -d 10.89.0.1/32 -p tcp -m tcp --dport 53 -j SNAT --to-source 10.89.0.2',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test("--link checks at create, with moby's texts", () => {
  const containers: Record<string, LinkedContainer> = {
    db: { id: ID, name: '/db', hostname: '0123456789ab', networkMode: 'bridge', running: true },
    h: { id: OTHER, name: '/h', hostname: 'h', networkMode: 'host', running: true },
  };
  const lookup = (ref: string) => containers[ref];
  validateLinks('bridge', ['db:database'], lookup);
  validateLinks('default', ['db'], lookup);
  // user-defined networks: moby leaves links to the endpoint (DNS aliases), no check here
  validateLinks('mynet', ['nothere:x'], lookup);
  assert.throws(() => validateLinks('bridge', ['nothere:x'], lookup), /^InvalidParameterError: could not get container for nothere: No such container: nothere$|could not get container for nothere: No such container: nothere/);
  assert.throws(() => validateLinks('host', ['db'], lookup), /conflicting options: host type networking can't be used with links/);
  assert.throws(() => validateLinks('container:db', ['db'], lookup), /conflicting options: container type network can't be used with links/);
  assert.throws(() => validateLinks('bridge', ['h'], lookup), /conflicting options: host type networking can't be used with links/);
  assert.deepEqual(defaultBridgeLinks('mynet', ['db']), []);
});

test('--link at start on the default bridge: hosts entries as moby writes them, or its errors', () => {
  const containers: Record<string, LinkedContainer> = {
    db: { id: ID, name: '/db', hostname: '0123456789ab', networkMode: 'bridge', running: true },
    stopped: { id: OTHER, name: '/stopped', hostname: 'fedcba987654', networkMode: 'bridge', running: false },
  };
  const lookup = (ref: string) => containers[ref];
  const addr = (id: string) => (id === ID ? '10.88.0.5' : undefined);
  assert.deepEqual(linkHostEntries('/web', ['db:database', 'db'], lookup, addr), [
    { ip: '10.88.0.5', names: ['database', '0123456789ab', 'db'] },
    { ip: '10.88.0.5', names: ['db', '0123456789ab'] },
  ]);
  assert.throws(() => linkHostEntries('/web', ['stopped:s'], lookup, addr), /Cannot link to a non running container: \/stopped AS \/web\/s/);
  containers.stopped.running = true;
  assert.throws(() => linkHostEntries('/web', ['stopped:s'], lookup, addr), /Cannot link to \/stopped, as it does not belong to the default network/);
});

test('ContainerDns: link aliases follow the linking container; rename and link changes rewrite the records', async () => {
  const net = { id: 'n1', name: 'app', dnsEnabled: true } as NetworkRecord;
  const bridge = { id: 'nb', name: 'bridge', dnsEnabled: false } as NetworkRecord;
  const ctr = (id: string, name: string, status = 'running') =>
    ({ id, name, config: { Hostname: id.slice(0, 12) }, hostConfig: { NetworkMode: 'app' }, state: { Status: status } }) as unknown as ContainerRecord;
  const ep = (containerId: string, networkId: string, ipAddress: string, links: string[] = [], aliases: string[] = []) =>
    ({ containerId, networkId, ipAddress, links, aliases }) as unknown as EndpointRecord;
  const db = ctr(ID, '/db');
  const web = ctr(OTHER, '/web');
  const parent = { ...ctr('c'.repeat(64), '/parent'), hostConfig: { NetworkMode: 'bridge', Links: ['db:d'] } } as unknown as ContainerRecord;
  const stoppedParent = { ...ctr('d'.repeat(64), '/stopped', 'exited'), hostConfig: { NetworkMode: 'bridge', Links: ['db:d'] } } as unknown as ContainerRecord;
  const eps = [ep(ID, 'n1', '10.0.0.2', [], ['cache']), ep(ID, 'nb', '10.1.0.2'), ep(OTHER, 'n1', '10.0.0.3', ['db:database'])];
  const updates: string[] = [];
  const dns = new ContainerDns({
    network: (id) => [net, bridge].find((n) => n.id === id),
    defaultBridge: () => bridge,
    endpointsOf: (id) => eps.filter((e) => e.containerId === id),
    endpointsOn: (id) => eps.filter((e) => e.networkId === id),
    container: (ref) => [db, web].find((c) => c.id === ref || c.name === `/${ref}`),
    containers: () => [db, web, parent, stoppedParent],
    updateNames: async (n, c, names) => {
      updates.push(`${n} ${c.slice(0, 4)} ${names.join(',')}`);
    },
  });
  assert.deepEqual(dns.names(db, net, eps[0]), ['db', 'cache', '0123456789ab', 'database']);
  assert.deepEqual(dns.names(db, bridge, eps[1]), []);
  // default-bridge link parents: running ones only
  assert.deepEqual(dns.linkParents(db).map((c) => c.name), ['/parent']);
  assert.deepEqual(dns.linkHosts(parent), [{ ip: '10.1.0.2', names: ['d', '0123456789ab', 'db'] }]);
  await dns.linksChanged(web, [eps[2]]);
  assert.deepEqual(updates, ['n1 0123 db,cache,0123456789ab,database']);
  // web stopped: its link no longer gives db an alias
  eps[2].ipAddress = '';
  updates.length = 0;
  await dns.linksChanged(web, [eps[2]]);
  assert.deepEqual(updates, ['n1 0123 db,cache,0123456789ab']);
  updates.length = 0;
  db.name = '/db2';
  await dns.renamed(db);
  assert.deepEqual(updates, ['n1 0123 db2,cache,0123456789ab']);
});
