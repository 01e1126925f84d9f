// Bad input over raw HTTP: each answer is Docker-shaped ({"message"} with Content-Type exactly
// application/json and the right status) and the daemon still answers /_ping afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type ApiResult, type Daemon } from './harness.js';

describe('bad input', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  async function expectError(r: ApiResult, status: number, message?: RegExp | string): Promise<void> {
    assert.equal(r.status, status, r.text);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(typeof r.json?.message, 'string', r.text);
    assert.ok(r.json.message.length > 0);
    assert.deepEqual(Object.keys(r.json), ['message']);
    assert.equal(r.headers['api-version'], '1.50');
    if (typeof message === 'string') assert.equal(r.json.message, message);
    else if (message) assert.match(r.json.message, message);
    const ping = await d.api('GET', '/_ping');
    assert.equal(ping.status, 200, 'the daemon still answers');
  }

  test('malformed JSON body is a 400', async () => {
    for (const body of ['{', '{"Image": "busybox",}', 'not json', '[1, 2', '{"Image": "busy\u0000']) {
      const r = await d.api('POST', '/containers/create', body, { headers: { 'content-type': 'application/json' } });
      await expectError(r, 400);
    }
  });

  test('fields of the wrong type are a 400', async () => {
    const bodies: unknown[] = [
      { Image: 5 },
      { Image: 'busybox', Cmd: { not: 'an array' } },
      { Image: 'busybox', Env: 'FOO=bar' },
      { Image: 'busybox', Labels: ['a'] },
      { Image: 'busybox', HostConfig: 'none' },
      { Image: 'busybox', HostConfig: { AutoRemove: 'yes' } },
      { Image: 'busybox', Tty: 'true' },
      { Image: 'busybox', StopTimeout: 'ten' },
    ];
    for (const body of bodies) {
      const r = await d.api('POST', '/containers/create', body);
      await expectError(r, 400);
    }
    const list = await d.api('GET', '/containers/json?all=1');
    assert.deepEqual(list.json, [], 'nothing was created');
  });

  test('an empty create body is a 400 like Docker\'s', async () => {
    const r = await d.api('POST', '/containers/create', '', { headers: { 'content-type': 'application/json' } });
    await expectError(r, 400, 'config cannot be empty in order to create a container');
  });

  test('a non-JSON Content-Type on create is a 400', async () => {
    const r = await d.api('POST', '/containers/create', JSON.stringify({ Image: 'busybox' }), { headers: { 'content-type': 'text/plain' } });
    await expectError(r, 400, /Content-Type.*application\/json/i);
  });

  test('unknown containers are 404 "No such container"', async () => {
    for (const [method, path] of [
      ['GET', '/containers/nosuch/json'],
      ['POST', '/containers/nosuch/start'],
      ['POST', '/containers/nosuch/stop'],
      ['POST', '/containers/nosuch/kill'],
      ['POST', '/containers/nosuch/wait'],
      ['DELETE', '/containers/nosuch'],
      ['GET', '/containers/nosuch/logs?stdout=1'],
    ] as const) {
      const r = await d.api(method, path);
      await expectError(r, 404, 'No such container: nosuch');
    }
  });

  test('a name conflict is a 409', async () => {
    const first = await d.api('POST', '/containers/create?name=taken', { Image: 'busybox' });
    assert.equal(first.status, 201, first.text);
    try {
      const r = await d.api('POST', '/containers/create?name=taken', { Image: 'busybox' });
      await expectError(r, 409, new RegExp(`^Conflict\\. The container name "/taken" is already in use by container "${first.json.Id}"`));
    } finally {
      await d.api('DELETE', '/containers/taken?force=1');
    }
  });

  test('an invalid container name is a 400', async () => {
    const r = await d.api('POST', `/containers/create?name=${encodeURIComponent('bad name!')}`, { Image: 'busybox' });
    await expectError(r, 400, 'Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  });

  test('an invalid image reference is a 400', async () => {
    for (const image of ['UPPER', 'bad ref', 'busybox:tag:tag', 'a@sha256:short']) {
      const r = await d.api('POST', '/containers/create', { Image: image });
      await expectError(r, 400, /invalid reference format/);
    }
  });

  test('a missing image is a 404 "No such image" (what makes the CLI pull)', async () => {
    const r = await d.api('POST', '/containers/create', { Image: 'nothere:v9' });
    await expectError(r, 404, 'No such image: nothere:v9');
  });

  test('bad query values are a 400', async () => {
    await expectError(await d.api('GET', '/containers/json?filters=notjson'), 400);
    await expectError(await d.api('GET', `/containers/json?filters=${encodeURIComponent('{"status":["sleeping"]}')}`), 400, /invalid filter 'status=sleeping'/);
    const c = await d.api('POST', '/containers/create?name=sig', { Image: 'busybox', Cmd: ['sleep', '100'] });
    assert.equal(c.status, 201);
    try {
      await d.api('POST', '/containers/sig/start');
      await expectError(await d.api('POST', '/containers/sig/kill?signal=BOGUS'), 400, /Invalid signal: BOGUS/);
      await expectError(await d.api('POST', '/containers/sig/wait?condition=sometime'), 400);
    } finally {
      await d.api('DELETE', '/containers/sig?force=1');
    }
  });

  test('the docker CLI shows these errors and exits non-zero', async () => {
    const r = await d.docker(['inspect', '--type', 'container', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nosuch/);
    const s = await d.docker(['start', 'nosuch']);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /Error response from daemon: No such container: nosuch/);
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });
});
