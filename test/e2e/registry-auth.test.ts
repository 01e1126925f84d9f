// docker login / logout and pulls with credentials against real registries: docker-registry with
// htpasswd (basic) and with token auth (token-server.ts: JWTs, refresh tokens); registry-mirrors
// for docker.io pulls and insecure-registries in /info; and that no password reaches the daemon's
// log, its events or an error message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareFixtures, startDaemon, type Daemon } from './harness.js';
import { startHtpasswdRegistry, startTokenRegistry, type TokenRegistry } from '../fixtures/auth-registry.js';
import { freePort, pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';

const BASIC_PASSWORD = 'basic-Pa55word-7f3a';
const TOKEN_PASSWORD = 'token-Pa55word-91c2';
const WRONG_PASSWORD = 'wrong-Pa55word-0d4e';
const SECRETS = [BASIC_PASSWORD, TOKEN_PASSWORD, WRONG_PASSWORD];

let d: Daemon;
let basic: RunningRegistry;
let token: TokenRegistry;
let mirror: RunningRegistry;
let deadPort: number;

const xRegistryAuth = (auth: object) => Buffer.from(JSON.stringify(auth)).toString('base64url');

async function dockerConfig(): Promise<any> {
  return JSON.parse(await readFile(join(d.dockerConfig, 'config.json'), 'utf8').catch(() => '{}'));
}

async function rmi(ref: string): Promise<void> {
  await d.api('DELETE', `/images/${encodeURIComponent(ref)}?force=1`);
}

describe('registry auth', () => {
  before(async () => {
    const fx = await prepareFixtures();
    basic = await startHtpasswdRegistry({ alice: BASIC_PASSWORD });
    token = await startTokenRegistry({ alice: TOKEN_PASSWORD });
    mirror = await startRegistry();
    deadPort = await freePort();
    await pushImage(basic.host, fx.ociDir, 'private/busybox:latest', `alice:${BASIC_PASSWORD}`);
    await pushImage(token.host, fx.ociDir, 'private/busybox:latest', `alice:${TOKEN_PASSWORD}`);
    await pushImage(mirror.host, fx.ociDir, 'library/busybox:latest');
    d = await startDaemon({
      // an unreachable mirror first: the pull goes on to the next
      args: ['--registry-mirror', `http://127.0.0.1:${deadPort}`, '--registry-mirror', `http://${mirror.host}/`, '--insecure-registry', '10.99.0.0/16', '--insecure-registry', 'registry.invalid:5000'],
    });
  });

  after(async () => {
    await d?.cleanup();
    await basic?.stop();
    await token?.stop();
    await mirror?.stop();
  });

  test('docker login to a basic-auth registry stores the credentials; pull uses them; logout removes them', async () => {
    const out = await d.dockerOk(['login', basic.host, '-u', 'alice', '--password-stdin'], { input: BASIC_PASSWORD });
    assert.match(out, /Login Succeeded/);
    const auth = (await dockerConfig()).auths?.[basic.host];
    assert.equal(Buffer.from(auth?.auth ?? '', 'base64').toString(), `alice:${BASIC_PASSWORD}`);
    assert.equal(auth.identitytoken, undefined, 'a basic registry gives no identity token');

    await d.dockerOk(['pull', `${basic.host}/private/busybox`]);
    assert.match(await d.dockerOk(['run', '--rm', `${basic.host}/private/busybox`, 'echo', 'pulled-with-basic']), /pulled-with-basic/);

    assert.match(await d.dockerOk(['logout', basic.host]), new RegExp(`Removing login credentials for ${basic.host}`));
    await rmi(`${basic.host}/private/busybox`);
    const denied = await d.docker(['pull', `${basic.host}/private/busybox`]);
    assert.notEqual(denied.code, 0);
    // moby's basic handler will not send a request without credentials; its tag lookup is a HEAD
    assert.match(denied.stderr, new RegExp(`Error response from daemon: Head "http://${basic.host}/v2/private/busybox/manifests/latest": no basic auth credentials`));
  });

  test('a wrong password for a basic-auth registry: moby\'s text, a 500, nothing stored', async () => {
    const r = await d.docker(['login', basic.host, '-u', 'alice', '--password-stdin'], { input: WRONG_PASSWORD });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Error response from daemon: login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized`));
    assert.equal((await dockerConfig()).auths?.[basic.host], undefined);
    const api = await d.api('POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress: basic.host });
    assert.equal(api.status, 500);
    assert.deepEqual(api.json, { message: `login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized` });
    // a pull with it: the registry's 401 to moby's HEAD, which has no body to say more
    const pull = await d.api('POST', `/images/create?fromImage=${basic.host}/private/busybox&tag=latest`, undefined, {
      headers: { 'X-Registry-Auth': xRegistryAuth({ username: 'alice', password: WRONG_PASSWORD }) },
    });
    assert.deepEqual([pull.status, pull.json], [500, { message: 'unauthorized: authentication required' }]);
  });

  test('docker login to a token registry keeps the identity token, and pulls trade it for a token (refresh grant)', async () => {
    const api = await d.api('POST', '/auth', { username: 'alice', password: TOKEN_PASSWORD, serveraddress: token.host });
    assert.equal(api.status, 200);
    assert.equal(api.json.Status, 'Login Succeeded');
    assert.equal(api.json.IdentityToken, token.tokens.refreshTokens.get('alice'));
    const asked = token.tokens.requests.at(-1)!;
    assert.deepEqual({ method: asked.method, grant: asked.grant, account: asked.account, clientId: asked.clientId, offline: asked.offlineToken, scope: asked.scope, service: asked.service }, {
      method: 'GET',
      grant: 'basic',
      account: 'alice',
      clientId: 'docker',
      offline: true,
      scope: [],
      service: token.tokens.service,
    });

    const out = await d.dockerOk(['login', token.host, '-u', 'alice', '--password-stdin'], { input: TOKEN_PASSWORD });
    assert.match(out, /Login Succeeded/);
    const stored = (await dockerConfig()).auths?.[token.host];
    assert.equal(stored?.identitytoken, token.tokens.refreshTokens.get('alice'), 'the CLI stores the identity token instead of the password');
    assert.ok(!JSON.stringify(stored).includes(TOKEN_PASSWORD));

    // a login with what the CLI stored: the identity token, traded by a refresh grant without a scope
    const asked0 = token.tokens.requests.length;
    const again = await d.api('POST', '/auth', { username: 'alice', identitytoken: stored.identitytoken, serveraddress: token.host });
    assert.deepEqual([again.status, again.json], [200, { IdentityToken: stored.identitytoken, Status: 'Login Succeeded' }]);
    assert.deepEqual(
      token.tokens.requests.slice(asked0).map((r) => [r.method, r.grant, r.clientId, r.scope.join(' '), r.status]),
      [['POST', 'refresh_token', 'docker', '', 200]],
    );
    const refused = await d.api('POST', '/auth', { identitytoken: 'refresh-not-issued', serveraddress: token.host });
    assert.deepEqual([refused.status, refused.json], [500, { message: `Get "http://${token.host}/v2/": error parsing HTTP 400 response body: no error details found in HTTP response body: "{\\"error\\":\\"invalid_grant\\"}"` }]);

    const before = token.tokens.requests.length;
    await d.dockerOk(['pull', `${token.host}/private/busybox`]);
    const grants = token.tokens.requests.slice(before);
    assert.ok(grants.length > 0 && grants.every((g) => g.method === 'POST' && g.grant === 'refresh_token' && g.clientId === 'docker' && g.status === 200), JSON.stringify(grants));
    assert.deepEqual(grants[0].scope, ['repository:private/busybox:pull']);
    await d.dockerOk(['logout', token.host]);
    await rmi(`${token.host}/private/busybox`);
  });

  test('a token registry: pull with a password in X-Registry-Auth, and without credentials', async () => {
    const before = token.tokens.requests.length;
    const ok = await d.api('POST', `/images/create?fromImage=${token.host}/private/busybox&tag=latest`, undefined, {
      headers: { 'X-Registry-Auth': xRegistryAuth({ username: 'alice', password: TOKEN_PASSWORD, serveraddress: token.host }) },
      timeoutMs: 60_000,
    });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /Downloaded newer image/);
    const asked = token.tokens.requests.slice(before);
    assert.ok(asked.some((r) => r.method === 'GET' && r.grant === 'basic' && r.account === 'alice' && r.scope.includes('repository:private/busybox:pull')), JSON.stringify(asked));
    await rmi(`${token.host}/private/busybox`);

    // a registry token given by the client is sent as it is
    const realm = new URL(token.tokens.realm);
    realm.searchParams.set('service', token.tokens.service);
    realm.searchParams.set('scope', 'repository:private/busybox:pull');
    const granted = await fetch(realm, { headers: { Authorization: `Basic ${Buffer.from(`alice:${TOKEN_PASSWORD}`).toString('base64')}` } });
    const { token: registrytoken } = (await granted.json()) as { token: string };
    const asked2 = token.tokens.requests.length;
    const withToken = await d.api('POST', `/images/create?fromImage=${token.host}/private/busybox&tag=latest`, undefined, {
      headers: { 'X-Registry-Auth': xRegistryAuth({ registrytoken }) },
      timeoutMs: 60_000,
    });
    assert.match(withToken.text, /Downloaded newer image/);
    assert.equal(token.tokens.requests.length, asked2, 'no token fetched by the daemon');
    await rmi(`${token.host}/private/busybox`);

    const denied = await d.docker(['pull', `${token.host}/private/busybox`]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, new RegExp(`pull access denied for ${token.host}/private/busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`));
  });

  test('a wrong password for a token registry: 401 with moby\'s unauthorized text, on login and on pull', async () => {
    const r = await d.docker(['login', token.host, '-u', 'alice', '--password-stdin'], { input: WRONG_PASSWORD });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Error response from daemon: Get "http://${token.host}/v2/": unauthorized: incorrect username or password`));
    const api = await d.api('POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress: `http://${token.host}` });
    assert.equal(api.status, 401);
    assert.deepEqual(api.json, { message: `Get "http://${token.host}/v2/": unauthorized: incorrect username or password` });

    const pull = await d.api('POST', `/images/create?fromImage=${token.host}/private/busybox&tag=latest`, undefined, {
      headers: { 'X-Registry-Auth': xRegistryAuth({ username: 'alice', password: WRONG_PASSWORD }) },
    });
    // refused before any progress: an error answer, a 500 as moby's (its tag lookup is a HEAD)
    assert.equal(pull.status, 500);
    assert.deepEqual(pull.json, { message: `Head "http://${token.host}/v2/private/busybox/manifests/latest": unauthorized: incorrect username or password` });
  });

  test('docker push with credentials: refused without a login in moby\'s words, then pushed to basic and token registries', async () => {
    const basicRef = `${basic.host}/mine/bb`;
    const tokenRef = `${token.host}/mine/bb`;
    await d.dockerOk(['login', token.host, '-u', 'alice', '--password-stdin'], { input: TOKEN_PASSWORD });
    await d.dockerOk(['pull', `${token.host}/private/busybox`]);
    await d.dockerOk(['logout', token.host]);
    await d.dockerOk(['tag', `${token.host}/private/busybox`, basicRef]);
    await d.dockerOk(['tag', `${token.host}/private/busybox`, tokenRef]);

    const noBasic = await d.docker(['push', basicRef]);
    assert.notEqual(noBasic.code, 0);
    assert.match(noBasic.stderr, /no basic auth credentials/);
    const noToken = await d.docker(['push', tokenRef]);
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.stderr, /denied: requested access to the resource is denied/);

    await d.dockerOk(['login', basic.host, '-u', 'alice', '--password-stdin'], { input: BASIC_PASSWORD });
    assert.match(await d.dockerOk(['push', basicRef]), /latest: digest: sha256:[0-9a-f]{64} size: \d+/);

    await d.dockerOk(['login', token.host, '-u', 'alice', '--password-stdin'], { input: TOKEN_PASSWORD });
    const asked = token.tokens.requests.length;
    const pushed = await d.dockerOk(['push', tokenRef]);
    assert.match(pushed, /latest: digest: sha256:[0-9a-f]{64} size: \d+/);
    // the layer came from private/busybox on that registry: mounted, with a token that may read it
    assert.match(pushed, /Mounted from private\/busybox/);
    const grants = token.tokens.requests.slice(asked);
    assert.ok(grants.every((g) => g.method === 'POST' && g.grant === 'refresh_token'), JSON.stringify(grants));
    assert.ok(grants.some((g) => g.scope.join(' ').includes('repository:mine/bb:pull,push')), JSON.stringify(grants));

    for (const ref of [basicRef, tokenRef, `${token.host}/private/busybox`]) await rmi(ref);
    await d.dockerOk(['pull', basicRef]);
    await d.dockerOk(['pull', tokenRef]);
    for (const host of [basic.host, token.host]) await d.dockerOk(['logout', host]);
    for (const ref of [basicRef, tokenRef]) await rmi(ref);
  });

  test('login to a registry that is not there: Go\'s dial error for the plain-HTTP try, a 500', async () => {
    const api = await d.api('POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress: `127.0.0.1:${deadPort}` });
    assert.equal(api.status, 500);
    assert.deepEqual(api.json, { message: `Get "http://127.0.0.1:${deadPort}/v2/": dial tcp 127.0.0.1:${deadPort}: connect: connection refused` });
    // moby returns the decoder's error unwrapped: a 500
    const bad = await d.api('POST', '/auth', { username: 7 });
    assert.equal(bad.status, 500);
    assert.equal(bad.json.message, 'json: cannot unmarshal number into Go struct field AuthConfig.username of type string');
  });

  test('registry-mirrors: docker pull busybox comes from the mirror (the unreachable one skipped)', async () => {
    await rmi('busybox:latest');
    const out = await d.dockerOk(['pull', 'busybox'], { timeoutMs: 120_000 });
    assert.match(out, /Status: Downloaded newer image for busybox:latest/);
    const img = JSON.parse(await d.dockerOk(['image', 'inspect', 'busybox']))[0];
    assert.deepEqual(img.RepoTags, ['busybox:latest']);
    assert.match(img.RepoDigests[0], /^busybox@sha256:[0-9a-f]{64}$/);
  });

  test('/info shows RegistryConfig as Docker 28: insecure CIDRs then loopback, index configs, mirrors', async () => {
    const info = (await d.api('GET', '/info')).json;
    const mirrors = [`http://127.0.0.1:${deadPort}/`, `http://${mirror.host}/`];
    assert.deepEqual(info.RegistryConfig, {
      InsecureRegistryCIDRs: ['10.99.0.0/16', '::1/128', '127.0.0.0/8'],
      IndexConfigs: {
        'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
        'registry.invalid:5000': { Name: 'registry.invalid:5000', Mirrors: [], Secure: false, Official: false },
      },
      Mirrors: mirrors,
    });
    const shown = await d.dockerOk(['info', '--format', '{{json .RegistryConfig.Mirrors}}']);
    assert.deepEqual(JSON.parse(shown), mirrors);
  });

  test('no password reaches the daemon log, the events or an error message', async () => {
    const events = await d.api('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000)}`);
    const log = await d.log();
    assert.ok(log.length > 0 && events.text.length > 0);
    for (const secret of SECRETS) {
      assert.ok(!log.includes(secret), `the daemon log holds ${secret}`);
      assert.ok(!events.text.includes(secret), `the events hold ${secret}`);
    }
  });
});
