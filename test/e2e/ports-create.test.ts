// Published ports at create (issue 9 item 4): the raw API's bad port options are refused in
// moby 28's words and leave nothing behind; what the docker CLI sends is accepted and kept.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('ports at create', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('bad PortBindings and ExposedPorts: 400 with Docker text, no container left', async () => {
    const cases: Array<{ body: Record<string, unknown>; text: string }> = [
      { body: { HostConfig: { PortBindings: { 'abc/tcp': [] } } }, text: 'invalid port specification: "abc"' },
      { body: { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } }, text: 'invalid port specification: "99999"' },
      { body: { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '9002-9000' }] } } }, text: 'invalid port specification: "9002-9000"' },
      { body: { HostConfig: { PortBindings: { '80/tcp': [{ HostIp: 'localhost', HostPort: '80' }] } } }, text: 'invalid IP address: localhost' },
      { body: { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } }, text: 'json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string' },
      { body: { ExposedPorts: { '80/icmp': {} } }, text: 'invalid proto: icmp' },
    ];
    for (const { body, text } of cases) {
      const r = await d().api('POST', '/containers/create', { Image: 'busybox', ...body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.message, text, JSON.stringify(body));
    }
    assert.deepEqual((await d().api('GET', '/containers/json?all=1')).json, []);
  });

  test('what the CLI sends for -p, --expose and -P is kept in Config and HostConfig', async () => {
    const n = f.name('ports-kept');
    await d().dockerOk(['create', '--name', n, '-p', '127.0.0.1:18080:80', '-p', '9000-9001:9000-9001/udp', '-p', '80', '--expose', '7000-7001', '-P', 'busybox', 'true']);
    const c = (await d().api('GET', `/containers/${n}/json`)).json;
    assert.deepEqual(Object.keys(c.Config.ExposedPorts).sort(), ['7000/tcp', '7001/tcp', '80/tcp', '9000/udp', '9001/udp']);
    assert.deepEqual(c.HostConfig.PortBindings['80/tcp'], [
      { HostIp: '127.0.0.1', HostPort: '18080' },
      { HostIp: '', HostPort: '' },
    ]);
    assert.deepEqual(c.HostConfig.PortBindings['9001/udp'], [{ HostIp: '', HostPort: '9001' }]);
    assert.equal(c.HostConfig.PublishAllPorts, true);
    // never started: nothing published
    assert.deepEqual(c.NetworkSettings.Ports, {});
    await d().dockerOk(['rm', n]);
  });

  test("host networking: published ports are discarded with moby's warning", async () => {
    const n = f.name('ports-host');
    const r = await d().docker(['create', '--name', n, '--network', 'host', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING: Published ports are discarded when using host network mode/);
  });
});
