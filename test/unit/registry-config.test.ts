// insecure-registries and registry-mirrors as moby's registry/config.go reads them, and the
// endpoints a pull or login tries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryConfig, parseCidr, validateMirror } from '../../src/images/distribution/registry-config.js';
import { loginHost } from '../../src/images/distribution/login.js';
import { parseDaemonArgs } from '../../src/engine/system/daemon-config.js';
import { decodeAuthConfig } from '../../src/api/routes/auth.js';

describe('registry config', () => {
  it('parses CIDRs as Go does: the network, not the address', () => {
    assert.equal(parseCidr('10.1.2.3/16')?.text, '10.1.0.0/16');
    assert.equal(parseCidr('::1/128')?.text, '::1/128');
    assert.equal(parseCidr('2001:DB8:0:0:1::5/64')?.text, '2001:db8::/64');
    assert.equal(parseCidr('fd00:1:2:3:4:5:6:7/112')?.text, 'fd00:1:2:3:4:5:6:0/112');
    assert.equal(parseCidr('10.0.0.0'), undefined);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('myhost:5000'), undefined);
  });

  it('normalises mirrors with a trailing slash and refuses what moby refuses', () => {
    assert.equal(validateMirror('http://127.0.0.1:5000'), 'http://127.0.0.1:5000/');
    assert.equal(validateMirror('https://mirror.example/'), 'https://mirror.example/');
    assert.throws(() => validateMirror('ftp://x'), { message: 'invalid mirror: unsupported scheme "ftp" in "ftp://x"' });
    assert.throws(() => validateMirror('https://m.example/?a=1'), { message: 'invalid mirror: query or fragment at end of the URI "https://m.example/?a=1"' });
    // the password is never echoed
    assert.throws(() => validateMirror('https://bob:hunter2@m.example/'), (err: Error) => !err.message.includes('hunter2') && /username\/password not allowed/.test(err.message));
  });

  it('shows /info RegistryConfig as moby: user CIDRs first, loopback always, host:port index configs, mirrors deduplicated', () => {
    const c = new RegistryConfig({
      mirrors: ['http://m1:5000', 'http://m1:5000/', 'https://m2'],
      insecureRegistries: ['10.9.8.7/8', 'http://myreg:5000', '127.0.0.0/8'],
    });
    assert.deepEqual(c.view(), {
      InsecureRegistryCIDRs: ['10.0.0.0/8', '127.0.0.0/8', '::1/128'],
      IndexConfigs: {
        'docker.io': { Name: 'docker.io', Mirrors: ['http://m1:5000/', 'https://m2/'], Secure: true, Official: true },
        'myreg:5000': { Name: 'myreg:5000', Mirrors: [], Secure: false, Official: false },
      },
      Mirrors: ['http://m1:5000/', 'https://m2/'],
    });
    assert.deepEqual(new RegistryConfig().view().InsecureRegistryCIDRs, ['::1/128', '127.0.0.0/8']);
    assert.throws(() => new RegistryConfig({ insecureRegistries: ['ftp://x'] }), { message: "insecure registry ftp://x should not contain '://'" });
    assert.throws(() => new RegistryConfig({ insecureRegistries: ['-bad'] }), { message: 'invalid index name (-bad). Cannot begin or end with a hyphen' });
    assert.throws(() => new RegistryConfig({ insecureRegistries: ['my_reg:5000'] }), { message: 'insecure registry my_reg:5000 is not valid: invalid host "my_reg"' });
  });

  it('tries HTTPS then HTTP for insecure registries, HTTPS alone for others, mirrors before docker.io', async () => {
    const c = new RegistryConfig({ mirrors: ['http://127.0.0.1:6000'], insecureRegistries: ['10.0.0.0/8', 'myreg.invalid:5000'] });
    const urls = async (d: string, mirrors = true) => (await c.endpoints(d, { mirrors })).map((e) => `${e.url}${e.mirror ? ' mirror' : ''}${e.skipTlsVerify ? ' noverify' : ''}`);
    assert.deepEqual(await urls('127.0.0.1:5000'), ['https://127.0.0.1:5000 noverify', 'http://127.0.0.1:5000 noverify']);
    assert.deepEqual(await urls('[::1]:5000'), ['https://[::1]:5000 noverify', 'http://[::1]:5000 noverify']);
    assert.deepEqual(await urls('10.2.3.4'), ['https://10.2.3.4 noverify', 'http://10.2.3.4 noverify']);
    assert.deepEqual(await urls('myreg.invalid:5000'), ['https://myreg.invalid:5000 noverify', 'http://myreg.invalid:5000 noverify']);
    assert.deepEqual(await urls('192.0.2.1:5000'), ['https://192.0.2.1:5000']);
    assert.deepEqual(await urls('docker.io'), ['http://127.0.0.1:6000 mirror', 'https://registry-1.docker.io']);
    assert.deepEqual(await urls('index.docker.io', false), ['https://registry-1.docker.io']);
  });

  it('reads a login server address as moby: https:// added, then the URL host', () => {
    assert.equal(loginHost(undefined), 'index.docker.io');
    assert.equal(loginHost(''), 'index.docker.io');
    assert.equal(loginHost('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(loginHost('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
    assert.equal(loginHost('https://index.docker.io/v1/'), 'index.docker.io');
  });

  it('decodes POST /auth bodies as Go does', () => {
    assert.deepEqual(decodeAuthConfig({ Username: 'a', password: 'b', serveraddress: 'r', other: 1, email: null }), { username: 'a', password: 'b', serveraddress: 'r' });
    assert.throws(() => decodeAuthConfig({ password: 5 }), { name: 'SystemError', message: 'json: cannot unmarshal number into Go struct field AuthConfig.password of type string' });
    assert.throws(() => decodeAuthConfig([]), { message: 'json: cannot unmarshal array into Go value of type registry.AuthConfig' });
  });
});

describe('daemon registry settings', () => {
  it('reads --insecure-registry / --registry-mirror and daemon.json, flags winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'daemon.json');
    try {
      writeFileSync(file, JSON.stringify({ 'insecure-registries': ['10.0.0.0/8'], 'registry-mirrors': ['http://m:5000'] }));
      const fromFile = parseDaemonArgs(['--config-file', file]);
      assert.deepEqual([fromFile.insecureRegistries, fromFile.registryMirrors], [['10.0.0.0/8'], ['http://m:5000']]);
      const flags = parseDaemonArgs(['--config-file', file, '--insecure-registry', 'a:1', '--insecure-registry=b:2', '--registry-mirror', 'https://n']);
      assert.deepEqual([flags.insecureRegistries, flags.registryMirrors], [['a:1', 'b:2'], ['https://n']]);
      writeFileSync(file, JSON.stringify({ 'registry-mirrors': 'http://m' }));
      assert.throws(() => parseDaemonArgs(['--config-file', file]), { message: `unable to configure the daemon with file ${file}: json: cannot unmarshal string into Go struct field Config.Mirrors of type []string` });
      assert.throws(() => parseDaemonArgs(['--config-file', file, '--registry-mirror', 'ftp://x']), { message: 'invalid mirror: unsupported scheme "ftp" in "ftp://x"' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
