// docker network create/ls/inspect/rm/prune/connect/disconnect through the docker CLI 28 and
// docker-py, with moby 28's JSON, filters, errors and status codes (issue 9 items 1 and 3).
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { daemonForFile, type Daemon } from './harness.js';
import { dockerPyEmits } from './python.js';

// A /24 of its own per run: other test daemons on this machine pick theirs from the pools.
const OCTET = randomInt(16, 250);
const SUBNET = `10.231.${OCTET}.0/24`;

describe('networks API', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();
  const made: string[] = [];
  const net = (n: string) => {
    made.push(n);
    return n;
  };
  const rmNets = async () => {
    for (const n of made.splice(0)) await d().api('DELETE', `/networks/${n}`);
  };
  afterEach(rmNets);
  after(rmNets);

  test('bridge, host and none exist from the first start and cannot be removed', async () => {
    const ls = await d().dockerOk(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    const lines = ls.trim().split('\n');
    for (const want of ['bridge bridge local', 'host host local', 'none null local']) assert.ok(lines.includes(want), `${want} in ${ls}`);
    for (const name of ['bridge', 'host', 'none']) {
      const r = await d().docker(['network', 'rm', name]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`${name} is a pre-defined network and cannot be removed`));
      const api = await d().api('DELETE', `/networks/${name}`);
      assert.equal(api.status, 403);
    }
    const none = JSON.parse(await d().dockerOk(['network', 'inspect', 'none']))[0];
    assert.equal(none.Driver, 'null');
    assert.deepEqual(none.IPAM, { Driver: 'default', Options: null, Config: null });
    const bridge = JSON.parse(await d().dockerOk(['network', 'inspect', 'bridge']))[0];
    assert.equal(bridge.Scope, 'local');
    assert.equal(bridge.IPAM.Config.length, 1);
    assert.match(bridge.IPAM.Config[0].Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.notEqual(bridge.IPAM.Config[0].Subnet, '172.17.0.0/16');
  });

  test('create with subnet, gateway, ip-range, labels, options, internal, attachable: inspect shows them as Docker 28', async () => {
    const name = net('napi-full');
    const id = (
      await d().dockerOk([
        'network', 'create', '--subnet', SUBNET, '--gateway', `10.231.${OCTET}.1`, '--ip-range', `10.231.${OCTET}.128/25`,
        '--label', 'tier=web', '--label', 'x', '-o', 'com.docker.network.driver.mtu=1400', '--internal', '--attachable', name,
      ])
    ).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const n = JSON.parse(await d().dockerOk(['network', 'inspect', name]))[0];
    assert.deepEqual(Object.keys(n), ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']);
    assert.equal(n.Id, id);
    assert.equal(n.Name, name);
    assert.match(n.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.EnableIPv4, true);
    assert.equal(n.EnableIPv6, false);
    assert.equal(n.IPAM.Driver, 'default');
    assert.deepEqual(n.IPAM.Config, [{ Subnet: SUBNET, IPRange: `10.231.${OCTET}.128/25`, Gateway: `10.231.${OCTET}.1` }]);
    assert.equal(n.Internal, true);
    assert.equal(n.Attachable, true);
    assert.equal(n.Ingress, false);
    assert.deepEqual(n.ConfigFrom, { Network: '' });
    assert.deepEqual(n.Containers, {});
    assert.equal(n.Options['com.docker.network.driver.mtu'], '1400');
    assert.deepEqual(n.Labels, { tier: 'web', x: '' });

    assert.equal((await d().dockerOk(['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}', id.slice(0, 12)])).trim(), `${name} bridge local true`);
    assert.equal((await d().dockerOk(['network', 'ls', '--no-trunc', '--filter', `id=${id}`, '--format', '{{.ID}} {{.Name}}'])).trim(), `${id} ${name}`);
    // The list has the network, without its Containers.
    const listed = (await d().api('GET', '/networks')).json.find((x: any) => x.Id === id);
    assert.deepEqual(listed.Containers, {});
    assert.deepEqual(listed.Labels, { tier: 'web', x: '' });
  });

  test('ls filters: name, label, driver, type, dangling, scope; bad filters are 400', async () => {
    const a = net('napi-fa');
    const b = net('napi-fb');
    await d().dockerOk(['network', 'create', '--label', 'grp=napi', '--label', 'which=a', a]);
    await d().dockerOk(['network', 'create', '--label', 'grp=napi', b]);
    const names = async (...filters: string[]) =>
      (await d().dockerOk(['network', 'ls', ...filters.flatMap((x) => ['--filter', x]), '--format', '{{.Name}}'])).trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('label=grp=napi'), [a, b]);
    assert.deepEqual(await names('label=grp=napi', 'label=which=a'), [a]);
    assert.deepEqual(await names('name=napi-f'), [a, b]);
    assert.deepEqual(await names('name=^napi-fb$'), [b]);
    assert.deepEqual(await names('driver=null'), ['none']);
    assert.deepEqual(await names('type=builtin'), ['bridge', 'host', 'none']);
    assert.ok((await names('type=custom')).includes(a));
    assert.ok(!(await names('type=custom')).includes('bridge'));
    assert.ok((await names('dangling=true')).includes(b));
    assert.ok(!(await names('dangling=true')).includes('bridge'));
    assert.deepEqual(await names('scope=swarm'), []);
    const bad = await d().api('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ color: ['red'] }))}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, "invalid filter 'color'");
    const badType = await d().docker(['network', 'ls', '--filter', 'type=other']);
    assert.notEqual(badType.code, 0);
    assert.match(badType.stderr, /invalid filter: 'type'='other'/);
  });

  test("create errors: duplicate name 409, predefined names and drivers 403, unknown drivers 404, bad JSON 400", async () => {
    const name = net('napi-dup');
    await d().dockerOk(['network', 'create', name]);
    const dup = await d().docker(['network', 'create', name]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, new RegExp(`network with name ${name} already exists`));
    const post = (body: unknown) => d().api('POST', '/networks/create', body);
    let r = await post({ Name: name });
    assert.equal(r.status, 409);
    r = await post({ Name: 'napi-x', Driver: 'foo' });
    assert.deepEqual([r.status, r.json.message], [404, 'plugin "foo" not found']);
    r = await post({ Name: 'napi-x', Driver: 'host' });
    assert.deepEqual([r.status, r.json.message], [403, 'only one instance of "host" network is allowed']);
    r = await post({ Name: 'none' });
    assert.deepEqual([r.status, r.json.message], [403, 'operation is not permitted on predefined none network ']);
    r = await post({ Name: 'napi-x', IPAM: { Driver: 'foo' } });
    assert.equal(r.status, 404);
    r = await post({ Name: 5 });
    assert.deepEqual([r.status, r.json.message], [400, 'json: cannot unmarshal number into Go struct field CreateRequest.Name of type string']);
    r = await post({ Name: '' });
    assert.equal(r.status, 400);
    const cli = await d().docker(['network', 'create', '-d', 'foo', 'napi-x']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /plugin "foo" not found/);
    assert.equal((await d().api('GET', '/networks/napi-x')).status, 404);
    const missing = await d().api('GET', '/networks/napi-nope');
    assert.deepEqual([missing.status, missing.json.message], [404, 'network napi-nope not found']);
    const rmMissing = await d().docker(['network', 'rm', 'napi-nope']);
    assert.match(rmMissing.stderr, /network napi-nope not found/);
    assert.equal((await d().api('GET', `/networks/${name}?verbose=maybe`)).status, 400);
  });

  test('a running container: Containers map, NetworkSettings, connect/disconnect at once, ps --filter network, rm refused while in use', async () => {
    const n1 = net('napi-c1');
    const n2 = net('napi-c2');
    await d().dockerOk(['network', 'create', n1]);
    const n2id = (await d().dockerOk(['network', 'create', n2])).trim();
    const c = f.name('napi-ctr');
    const cid = (await d().dockerOk(['run', '-d', '--name', c, '--network', n1, '--network-alias', 'web', 'busybox', 'sleep', '1000'])).trim();

    const nw = JSON.parse(await d().dockerOk(['network', 'inspect', n1]))[0];
    const entry = nw.Containers[cid];
    assert.ok(entry, JSON.stringify(nw.Containers));
    assert.equal(entry.Name, c);
    assert.match(entry.EndpointID, /^[0-9a-f]{64}$/);
    assert.match(entry.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.match(entry.IPv4Address, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.equal(entry.IPv6Address, '');

    const ci = await f.inspect(c);
    const ns = ci.NetworkSettings;
    assert.equal(ci.HostConfig.NetworkMode, n1);
    assert.deepEqual(Object.keys(ns.Networks), [n1]);
    const ep = ns.Networks[n1];
    assert.equal(ep.NetworkID, nw.Id);
    assert.equal(ep.EndpointID, entry.EndpointID);
    assert.equal(`${ep.IPAddress}/${ep.IPPrefixLen}`, entry.IPv4Address);
    assert.equal(ep.Gateway, nw.IPAM.Config[0].Gateway);
    assert.equal(ep.MacAddress, entry.MacAddress);
    assert.deepEqual(ep.Aliases, ['web']);
    assert.deepEqual(ep.DNSNames, [c, 'web', cid.slice(0, 12)]);
    // Not on the default bridge: the top-level fields stay empty, as Docker 28 shows them.
    assert.equal(ns.IPAddress, '');
    assert.equal(ns.Gateway, '');
    assert.match(ns.SandboxID, /^[0-9a-f]{64}$/);
    assert.ok(ns.SandboxKey.length > 0);
    assert.equal((await d().dockerOk(['inspect', '--format', `{{(index .NetworkSettings.Networks "${n1}").IPAddress}}`, c])).trim(), ep.IPAddress);

    // The list form.
    const ps = (await d().api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ id: [cid] }))}`)).json[0];
    assert.equal(ps.HostConfig.NetworkMode, n1);
    assert.equal(ps.NetworkSettings.Networks[n1].IPAddress, ep.IPAddress);
    assert.equal(ps.NetworkSettings.Networks[n1].Aliases, null);

    // connect: the interface appears at once.
    await d().dockerOk(['network', 'connect', '--alias', 'db', n2, c]);
    const links = await d().dockerOk(['exec', c, 'ip', '-o', 'addr']);
    const ci2 = await f.inspect(c);
    const ip2 = ci2.NetworkSettings.Networks[n2].IPAddress;
    assert.match(ip2, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(links.includes(ip2), links);
    assert.deepEqual(ci2.NetworkSettings.Networks[n2].Aliases, ['db']);
    assert.equal((await d().dockerOk(['ps', '--filter', `network=${n2}`, '--format', '{{.Names}}'])).trim(), c);
    assert.equal((await d().dockerOk(['ps', '--filter', `network=${n2id.slice(0, 10)}`, '--format', '{{.Names}}'])).trim(), c);
    assert.equal((await d().dockerOk(['ps', '--filter', 'network=bridge', '--format', '{{.Names}}'])).trim(), '');
    assert.deepEqual(JSON.parse(await d().dockerOk(['inspect', '--format', '{{json .NetworkSettings.Networks}}', c])) && Object.keys(ci2.NetworkSettings.Networks).sort(), [n1, n2].sort());

    // A network with a running container cannot go.
    const rm = await d().api('DELETE', `/networks/${n2}`);
    assert.equal(rm.status, 403);
    assert.match(rm.json.message, new RegExp(`^error while removing network: network ${n2} has active endpoints`));
    const pruned = await d().api('POST', '/networks/prune');
    assert.ok(!(pruned.json.NetworksDeleted ?? []).includes(n2));

    // disconnect: the interface goes at once.
    await d().dockerOk(['network', 'disconnect', n2, c]);
    assert.ok(!(await d().dockerOk(['exec', c, 'ip', '-o', 'addr'])).includes(ip2));
    assert.deepEqual(Object.keys((await f.inspect(c)).NetworkSettings.Networks), [n1]);
    assert.deepEqual(JSON.parse(await d().dockerOk(['network', 'inspect', n2]))[0].Containers, {});
    const again = await d().docker(['network', 'disconnect', n2, c]);
    assert.notEqual(again.code, 0);
    const noContainer = await d().api('POST', `/networks/${n2}/connect`, { Container: 'napi-nope' });
    assert.deepEqual([noContainer.status, noContainer.json.message], [404, 'No such container: napi-nope']);
    const noNetwork = await d().api('POST', '/networks/napi-nope/connect', { Container: c });
    assert.deepEqual([noNetwork.status, noNetwork.json.message], [404, 'network napi-nope not found']);

    // Stopped: NetworkID stays, the operational fields go, and the network is free again.
    await d().dockerOk(['stop', '-t', '0', c]);
    const stopped = (await f.inspect(c)).NetworkSettings;
    assert.equal(stopped.Networks[n1].NetworkID, nw.Id);
    assert.equal(stopped.Networks[n1].IPAddress, '');
    assert.equal(stopped.Networks[n1].EndpointID, '');
    assert.equal(stopped.SandboxKey, '');
    assert.deepEqual(JSON.parse(await d().dockerOk(['network', 'inspect', n1]))[0].Containers, {});
  });

  test('the default bridge: the top-level IPAddress/Gateway/MacAddress/EndpointID of docker inspect', async () => {
    const c = f.name('napi-br');
    await d().dockerOk(['run', '-d', '--name', c, 'busybox', 'sleep', '1000']);
    const ci = await f.inspect(c);
    const ns = ci.NetworkSettings;
    assert.equal(ci.HostConfig.NetworkMode, 'bridge');
    const ep = ns.Networks.bridge;
    assert.ok(ep, JSON.stringify(ns.Networks));
    assert.match(ns.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(ns.IPAddress, ep.IPAddress);
    assert.equal(ns.Gateway, ep.Gateway);
    assert.equal(ns.IPPrefixLen, ep.IPPrefixLen);
    assert.equal(ns.MacAddress, ep.MacAddress);
    assert.equal(ns.EndpointID, ep.EndpointID);
    assert.equal(ep.DNSNames, null);
    assert.equal((await d().dockerOk(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', c])).trim(), ep.IPAddress);
    const bridge = JSON.parse(await d().dockerOk(['network', 'inspect', 'bridge']))[0];
    assert.equal(bridge.Containers[ci.Id].IPv4Address, `${ep.IPAddress}/${ep.IPPrefixLen}`);
    // host mode: the host network by its ID, no addresses.
    const h = f.name('napi-host');
    await d().dockerOk(['run', '-d', '--name', h, '--network', 'host', 'busybox', 'sleep', '1000']);
    const hi = await f.inspect(h);
    const hostNet = JSON.parse(await d().dockerOk(['network', 'inspect', 'host']))[0];
    assert.deepEqual(Object.keys(hi.NetworkSettings.Networks), ['host']);
    assert.equal(hi.NetworkSettings.Networks.host.NetworkID, hostNet.Id);
    assert.equal(hi.NetworkSettings.IPAddress, '');
  });

  test('prune removes unused user-defined networks, honours label filters, reports names', async () => {
    const keep = net('napi-keep');
    const drop = net('napi-drop');
    await d().dockerOk(['network', 'create', '--label', 'keep=yes', keep]);
    await d().dockerOk(['network', 'create', drop]);
    const out = await d().dockerOk(['network', 'prune', '-f', '--filter', 'label!=keep=yes']);
    assert.match(out, /Deleted Networks:/);
    assert.match(out, new RegExp(`^${drop}$`, 'm'));
    assert.doesNotMatch(out, new RegExp(keep));
    assert.equal((await d().api('GET', `/networks/${drop}`)).status, 404);
    assert.equal((await d().api('GET', `/networks/${keep}`)).status, 200);
    const r = await d().api('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({ until: ['0'] }))}`);
    assert.deepEqual(r.json, { NetworksDeleted: null });
    const bad = await d().api('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: ['true'] }))}`);
    assert.equal(bad.status, 400);
    await rmNets();
  });

  test('network events, a created container connected then started, none mode, bad EndpointConfig', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const n = net('napi-ev');
    const id = (await d().dockerOk(['network', 'create', n])).trim();
    const c = f.name('napi-created');
    await d().dockerOk(['create', '--name', c, 'busybox', 'sleep', '1000']);
    await d().dockerOk(['network', 'connect', '--alias', 'late', n, c]);
    const created = (await f.inspect(c)).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(created).sort(), ['bridge', n]);
    assert.equal(created[n].NetworkID, id);
    assert.equal(created[n].IPAddress, '');
    assert.deepEqual(JSON.parse(await d().dockerOk(['network', 'inspect', n]))[0].Containers, {});
    await d().dockerOk(['start', c]);
    const started = (await f.inspect(c)).NetworkSettings.Networks[n];
    assert.match(started.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(started.Aliases, ['late']);
    assert.ok(JSON.parse(await d().dockerOk(['network', 'inspect', n]))[0].Containers[(await f.inspect(c)).Id]);
    const bad = await d().api('POST', `/networks/${n}/connect`, { Container: c, EndpointConfig: { Aliases: 'x' } });
    assert.deepEqual([bad.status, bad.json.message], [400, 'json: cannot unmarshal string into Go struct field ConnectOptions.EndpointConfig.Aliases of type []string']);
    await d().dockerOk(['rm', '-f', c]);
    await d().dockerOk(['network', 'rm', n]);
    await d().api('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({ label: ['napi-none-such'] }))}`);

    const none = f.name('napi-none');
    await d().dockerOk(['run', '-d', '--name', none, '--network', 'none', 'busybox', 'sleep', '1000']);
    const ni = await f.inspect(none);
    assert.equal(ni.HostConfig.NetworkMode, 'none');
    assert.deepEqual(Object.keys(ni.NetworkSettings.Networks), ['none']);
    assert.equal(ni.NetworkSettings.Networks.none.NetworkID, JSON.parse(await d().dockerOk(['network', 'inspect', 'none']))[0].Id);
    assert.equal(ni.NetworkSettings.Networks.none.IPAddress, '');

    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d().api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`);
    const events = ev.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const mine = events.filter((e) => e.Actor.ID === id).map((e) => e.Action);
    assert.deepEqual(mine, ['create', 'connect', 'disconnect', 'destroy']);
    const createEv = events.find((e) => e.Actor.ID === id && e.Action === 'create');
    assert.deepEqual(createEv.Actor.Attributes, { name: n, type: 'bridge' });
    assert.ok(events.some((e) => e.Action === 'prune' && e.Actor.Attributes.reclaimed === '0'));
  });

  test('docker-py: networks.create/list/get/connect/disconnect/remove/prune', { timeout: 120_000 }, async () => {
    const name = net('napi-py');
    const c = f.name('napi-pyc');
    await d().dockerOk(['run', '-d', '--name', c, 'busybox', 'sleep', '1000']);
    const [r] = await dockerPyEmits(
      d(),
      `
name, cname = sys.argv[1], sys.argv[2]
n = client.networks.create(name, driver='bridge', labels={'py': '1'}, ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=sys.argv[3])]))
out = {'id': n.id, 'name': n.name}
out['listed'] = [x.name for x in client.networks.list(filters={'label': 'py=1'})]
out['names'] = sorted(x.name for x in client.networks.list(names=[name]))
n.connect(cname, aliases=['pyalias'])
n.reload()
out['containers'] = [x.name for x in n.containers]
c = client.containers.get(cname)
out['aliases'] = c.attrs['NetworkSettings']['Networks'][name]['Aliases']
n.disconnect(cname)
n.reload()
out['after'] = [x.name for x in n.containers]
out['get'] = client.networks.get(n.id[:12]).name
n.remove()
try:
    client.networks.get(name)
    out['gone'] = False
except docker.errors.NotFound:
    out['gone'] = True
client.networks.create(name + '-p')
out['pruned'] = client.networks.prune(filters={'label!': 'keep'})['NetworksDeleted']
try:
    client.networks.create('host')
except docker.errors.APIError as e:
    out['predefined'] = [e.status_code, e.explanation]
emit(out)
`,
      { args: [name, c, `10.231.${(OCTET + 1) % 250}.0/24`] },
    );
    made.push(`${name}-p`);
    assert.match(r.id, /^[0-9a-f]{64}$/);
    assert.equal(r.name, name);
    assert.deepEqual(r.listed, [name]);
    assert.deepEqual(r.names, [name]);
    assert.deepEqual(r.containers, [c]);
    assert.ok(r.aliases.includes('pyalias'), JSON.stringify(r.aliases));
    assert.deepEqual(r.after, []);
    assert.equal(r.get, name);
    assert.equal(r.gone, true);
    assert.ok(r.pruned.includes(`${name}-p`), JSON.stringify(r.pruned));
    made.splice(made.indexOf(`${name}-p`), 1);
    assert.deepEqual(r.predefined, [403, 'operation is not permitted on predefined host network ']);
  });
});
