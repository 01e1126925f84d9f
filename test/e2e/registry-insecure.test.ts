// insecure-registries as dockerd: a registry off loopback is HTTPS with a verified certificate
// unless configured insecure, and then tried over HTTPS (unverified) before plain HTTP; loopback
// is always insecure. Registries listen on the host's own non-loopback address (skipped when it
// has none) and on 0.0.0.0 for the TLS one, reached both ways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { prepareFixtures, startDaemon, type Daemon } from './harness.js';
import { freePort, pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';

const run = promisify(execFile);

function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    const a = list?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

const ip = hostAddress();

describe('insecure registries', { skip: ip === undefined ? 'the host has no non-loopback IPv4 address' : false }, () => {
  let d: Daemon;
  let certDir: string;
  let insecure: RunningRegistry;
  let secure: RunningRegistry;
  let tls: RunningRegistry;
  let tlsPort: number;

  before(async () => {
    const fx = await prepareFixtures();
    certDir = await mkdtemp(join(tmpdir(), 'berth-tls-'));
    const [certificate, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '2', '-subj', '/CN=berth-test-registry', '-addext', `subjectAltName=IP:127.0.0.1,IP:${ip}`]);
    insecure = await startRegistry({ address: ip });
    secure = await startRegistry({ address: ip });
    tlsPort = await freePort();
    tls = await startRegistry({ address: '0.0.0.0', port: tlsPort, tls: { certificate, key } });
    await pushImage(insecure.host, fx.ociDir, 'busybox:latest');
    await pushImage(`127.0.0.1:${tlsPort}`, fx.ociDir, 'busybox:latest');
    // daemon.json, as dockerd reads it
    const configFile = join(certDir, 'daemon.json');
    await writeFile(configFile, JSON.stringify({ 'insecure-registries': [insecure.host] }));
    d = await startDaemon({ args: ['--config-file', configFile] });
  });

  after(async () => {
    await d?.cleanup();
    for (const r of [insecure, secure, tls]) await r?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  test('a registry configured insecure (daemon.json) is pulled from and logged in to over plain HTTP after HTTPS fails', async () => {
    const out = await d.dockerOk(['pull', `${insecure.host}/busybox`]);
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${insecure.host}/busybox:latest`));
    const login = await d.api('POST', '/auth', { username: 'u', password: 'p', serveraddress: insecure.host });
    assert.deepEqual([login.status, login.json], [200, { IdentityToken: '', Status: 'Login Succeeded' }]);
    const info = (await d.api('GET', '/info')).json;
    assert.deepEqual(info.RegistryConfig.IndexConfigs[insecure.host], { Name: insecure.host, Mirrors: [], Secure: false, Official: false });
  });

  test('a registry off loopback that is not configured is HTTPS only, with Go\'s words for what goes wrong', async () => {
    const plain = await d.docker(['pull', `${secure.host}/busybox`]);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, new RegExp(`Error response from daemon: Get "https://${secure.host}/v2/": http: server gave HTTP response to HTTPS client`));
    const login = await d.api('POST', '/auth', { username: 'u', password: 'p', serveraddress: secure.host });
    assert.deepEqual([login.status, login.json], [500, { message: `Get "https://${secure.host}/v2/": http: server gave HTTP response to HTTPS client` }]);
    const unverified = await d.docker(['pull', `${ip}:${tlsPort}/busybox`]);
    assert.notEqual(unverified.code, 0);
    assert.match(unverified.stderr, new RegExp(`Get "https://${ip}:${tlsPort}/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`));
  });

  test('a loopback registry with a self-signed certificate is pulled from over HTTPS', async () => {
    const out = await d.dockerOk(['pull', `127.0.0.1:${tlsPort}/busybox`]);
    assert.match(out, /Downloaded newer image/);
    assert.match(await d.dockerOk(['run', '--rm', `127.0.0.1:${tlsPort}/busybox`, 'echo', 'over-tls']), /over-tls/);
  });
});
