// Issue 11 §5: registry credentials (X-Registry-Auth on pull and push, build's X-Registry-Config,
// POST /auth bodies, identity tokens, the bearer tokens the daemon gets, basic auth headers) reach
// no log line (the daemon runs at debug), no event, no error message, no inspect/info/df answer and
// no file under the data-root or the exec-root: dockerd keeps no credentials on disk either (the
// CLI's config.json is the client's). Every step below uses distinctive secrets; the last test
// looks for each, plain and in the encodings it travels in, everywhere the daemon wrote.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareFixtures, startDaemon, type ApiResult, type Daemon } from './harness.js';
import { startHtpasswdRegistry, startTokenRegistry, type TokenRegistry } from '../fixtures/auth-registry.js';
import { pushImage, type RunningRegistry } from '../fixtures/registry.js';
import { tarOf } from '../fixtures/tar-of.js';

const BASIC_PASSWORD = `basicPW-${process.pid}-5e1f`;
const TOKEN_PASSWORD = `tokenPW-${process.pid}-77ab`;
const WRONG_PASSWORD = `wrongPW-${process.pid}-c3d9`;
const PASSWORDS = [BASIC_PASSWORD, TOKEN_PASSWORD, WRONG_PASSWORD];

const b64 = (s: string) => Buffer.from(s).toString('base64');
const xAuth = (auth: object) => Buffer.from(JSON.stringify(auth)).toString('base64url');

/** A secret in the forms it travels in: plain, a basic auth header's, an X-Registry-Auth's. */
function forms(secret: string): string[] {
  const out = [secret, b64(`alice:${secret}`), b64(secret).replace(/=+$/, '')];
  // base64 of the JSON around it, at each of the three alignments a secret can have in it
  for (const pre of ['"', 'x"', 'xy"']) out.push(Buffer.from(`${pre}${secret}"`).toString('base64').slice(4, -4));
  // and their base64url spellings (X-Registry-Auth is base64url)
  return [...new Set([...out, ...out.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_'))])];
}

/** Every regular file under `dir`, as buffers (SQLite db and WAL included). */
async function filesUnder(dir: string): Promise<{ path: string; data: Buffer }[]> {
  const out: { path: string; data: Buffer }[] = [];
  for (const e of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, e);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      // layer dirs are image content, not the daemon's writing
      if (e === 'layers' || e === 'blobs' || e === 'diff' || e === 'merged') continue;
      out.push(...(await filesUnder(p)));
    } else if (st.isFile() && st.size < 64 * 1024 * 1024) {
      out.push({ path: p, data: await readFile(p).catch(() => Buffer.alloc(0)) });
    }
  }
  return out;
}

describe('registry credentials stay secret', () => {
  let d: Daemon;
  let basic: RunningRegistry;
  let token: TokenRegistry;
  const answers: { what: string; r: ApiResult }[] = [];
  /** A request whose answer the last test searches; `own`: an answer that hands the client its own identity token (moby's). */
  const call = async (what: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, own = false) => {
    const r = await d.api(method, path, body, { headers, timeoutMs: 120_000 });
    if (!own) answers.push({ what, r });
    return r;
  };

  before(async () => {
    const fx = await prepareFixtures();
    basic = await startHtpasswdRegistry({ alice: BASIC_PASSWORD });
    token = await startTokenRegistry({ alice: TOKEN_PASSWORD });
    await pushImage(basic.host, fx.ociDir, 'private/busybox:latest', `alice:${BASIC_PASSWORD}`);
    await pushImage(token.host, fx.ociDir, 'private/busybox:latest', `alice:${TOKEN_PASSWORD}`);
    d = await startDaemon({ logLevel: 'debug' });
  });
  after(async () => {
    await d?.cleanup();
    await basic?.stop();
    await token?.stop();
  });

  test('logins: right and wrong passwords, identity tokens, a server address with user info', async () => {
    assert.equal((await call('auth basic', 'POST', '/auth', { username: 'alice', password: BASIC_PASSWORD, serveraddress: basic.host })).status, 200);
    assert.equal((await call('auth basic wrong', 'POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress: basic.host })).status, 500);
    // the identity token goes back to the client that logged in (moby's answer): the one place it may be
    const ok = await call('auth token', 'POST', '/auth', { username: 'alice', password: TOKEN_PASSWORD, serveraddress: token.host }, {}, true);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.IdentityToken, token.tokens.refreshTokens.get('alice'));
    assert.equal((await call('auth token wrong', 'POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress: token.host })).status, 401);
    assert.equal((await call('auth identity token', 'POST', '/auth', { identitytoken: ok.json.IdentityToken, serveraddress: token.host }, {}, true)).status, 200);
    // a password in the server address' user info is never echoed
    for (const serveraddress of [`http://alice:${WRONG_PASSWORD}@${basic.host}`, `alice:${WRONG_PASSWORD}@${basic.host}`, `https://alice:${WRONG_PASSWORD}@127.0.0.1:1/`]) {
      const r = await call(`auth userinfo ${serveraddress}`, 'POST', '/auth', { username: 'alice', password: WRONG_PASSWORD, serveraddress });
      assert.notEqual(r.status, 200);
    }
  });

  test('pulls and pushes with X-Registry-Auth: right, wrong, an identity token, an undecodable header', async () => {
    const pull = (what: string, host: string, auth: string) => call(what, 'POST', `/images/create?fromImage=${host}/private/busybox&tag=latest`, undefined, { 'X-Registry-Auth': auth });
    assert.match((await pull('pull basic', basic.host, xAuth({ username: 'alice', password: BASIC_PASSWORD }))).text, /Downloaded newer image/);
    assert.match((await pull('pull token', token.host, xAuth({ username: 'alice', password: TOKEN_PASSWORD }))).text, /Downloaded newer image/);
    assert.match((await pull('pull token, identity token', token.host, xAuth({ identitytoken: token.tokens.refreshTokens.get('alice') }))).text, /up to date/);
    for (const host of [basic.host, token.host]) {
      assert.notEqual((await pull(`pull wrong ${host}`, host, xAuth({ username: 'alice', password: WRONG_PASSWORD }))).status, 200);
      // truncated JSON: moby ignores the header (an anonymous pull), and must not quote it
      const cut = Buffer.from(JSON.stringify({ username: 'alice', password: WRONG_PASSWORD }).slice(0, -2)).toString('base64');
      await pull(`pull undecodable ${host}`, host, cut);
    }
    for (const [host, password] of [[basic.host, BASIC_PASSWORD], [token.host, TOKEN_PASSWORD]]) {
      const ref = `${host}/mine/secret-push`;
      assert.equal((await call('tag', 'POST', `/images/${host}/private/busybox/tag?repo=${host}/mine/secret-push&tag=latest`)).status, 201);
      const pushed = await call(`push ${host}`, 'POST', `/images/${ref}/push?tag=latest`, undefined, { 'X-Registry-Auth': xAuth({ username: 'alice', password }) });
      assert.match(pushed.text, /digest: sha256:/);
      const wrong = await call(`push wrong ${host}`, 'POST', `/images/${ref}/push?tag=latest`, undefined, { 'X-Registry-Auth': xAuth({ username: 'alice', password: WRONG_PASSWORD }) });
      assert.match(wrong.text, /error/);
    }
  });

  test('build with X-Registry-Config: FROM a private image, right and wrong credentials', async () => {
    const context = await tarOf([{ header: { name: 'Dockerfile' }, body: `FROM ${basic.host}/private/busybox\nLABEL secret-test=1\n` }]);
    const config = (password: string) => xAuth({ [basic.host]: { username: 'alice', password }, [token.host]: { username: 'alice', password: TOKEN_PASSWORD } });
    await call('rmi before build', 'DELETE', `/images/${basic.host}/private/busybox?force=1`);
    const built = await call('build', 'POST', '/build?pull=1&t=secret-build', context, { 'content-type': 'application/x-tar', 'X-Registry-Config': config(BASIC_PASSWORD) });
    assert.match(built.text, /Successfully tagged secret-build:latest/);
    const wrong = await call('build wrong', 'POST', '/build?pull=1', context, { 'content-type': 'application/x-tar', 'X-Registry-Config': config(WRONG_PASSWORD) });
    assert.match(wrong.text, /errorDetail/);
  });

  test('a token server that went away: pull, push and login errors carry no credentials', async () => {
    await token.tokens.stop();
    const r = await call('pull, token server gone', 'POST', `/images/create?fromImage=${token.host}/mine/secret-push&tag=latest`, undefined, { 'X-Registry-Auth': xAuth({ username: 'alice', password: TOKEN_PASSWORD }) });
    assert.notEqual(r.status, 200, r.text);
    const p = await call('push, token server gone', 'POST', `/images/${token.host}/mine/secret-push/push?tag=latest`, undefined, { 'X-Registry-Auth': xAuth({ username: 'alice', password: TOKEN_PASSWORD }) });
    assert.match(p.text, /error/);
    const l = await call('login, token server gone', 'POST', '/auth', { username: 'alice', password: TOKEN_PASSWORD, serveraddress: token.host });
    assert.notEqual(l.status, 200);
  });

  test('no secret in any answer, inspect, info, df, the events, the debug log, or a file of the daemon', async () => {
    for (const [what, path] of [['info', '/info'], ['images', '/images/json?all=1'], ['df', '/system/df'], ['inspect', `/images/${basic.host}/private/busybox/json`], ['inspect built', '/images/secret-build/json']]) {
      await call(what, 'GET', path);
    }
    answers.push({ what: 'events', r: await d.api('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000)}`) });
    const log = await d.log();
    const files = [...(await filesUnder(d.dataRoot)), ...(await filesUnder(d.execRoot))];
    assert.ok(files.some((f) => f.path.endsWith('.db') || f.path.endsWith('.db-wal')), 'the SQLite files were searched');
    const secrets = [
      ...PASSWORDS.flatMap(forms),
      token.tokens.refreshTokens.get('alice')!,
      // bearer tokens: each one's signature, which no other text shares
      ...token.tokens.issued.map((t) => t.slice(t.lastIndexOf('.') + 1)),
    ];
    assert.ok(token.tokens.issued.length > 3, 'the daemon was given bearer tokens');
    for (const s of secrets) {
      for (const { what, r } of answers) assert.ok(!`${r.text}${JSON.stringify(r.headers)}`.includes(s), `${what} answered with a secret (${s}): ${r.text.slice(0, 400)}`);
      assert.ok(!log.includes(s), `the daemon log holds a secret (${s}): ${log.slice(Math.max(0, log.indexOf(s) - 300), log.indexOf(s) + 100)}`);
      for (const f of files) assert.ok(!f.data.includes(s), `${f.path} holds a secret (${s})`);
    }
  });
});
