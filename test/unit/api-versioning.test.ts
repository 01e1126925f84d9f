import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.js';
import { createApiServer } from '../../src/api/server.js';
import { SERVER_HEADER, apiVersionAtLeast, apiVersionOf, compareVersions, versionError } from '../../src/api/versioning.js';

function server() {
  const { app } = createApiServer({ engine: {} as Engine, logger: pino({ level: 'silent' }) });
  app.get('/version-seen', async (request) => ({ v: apiVersionOf(request), modern: apiVersionAtLeast(request, '1.42') }));
  app.post('/stream', async (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'application/json' });
    reply.raw.end('{}\n');
  });
  return app;
}

function assertApiHeaders(headers: Record<string, unknown>, what: string): void {
  assert.equal(headers['api-version'], '1.50', what);
  assert.equal(headers['server'], 'Docker/28.2.2 (linux)', what);
  assert.equal(headers['ostype'], 'linux', what);
  assert.equal(headers['docker-experimental'], 'false', what);
}

test('compareVersions orders dotted versions numerically', () => {
  assert.equal(compareVersions('1.50', '1.50'), 0);
  assert.equal(compareVersions('1.9', '1.24'), -1);
  assert.equal(compareVersions('1.100', '1.50'), 1);
  assert.equal(compareVersions('1.24.0', '1.24'), 0);
  assert.equal(compareVersions('2', '1.99'), 1);
});

test("version errors carry moby's messages", () => {
  assert.equal(versionError('1.24'), undefined);
  assert.equal(versionError('1.50'), undefined);
  assert.equal(
    versionError('1.23')?.message,
    'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  );
  assert.equal(versionError('1.51')?.message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
});

test("the Server header matches the Go client's regex", () => {
  assert.match(SERVER_HEADER, /^Docker\/.+\s\((.+)\)$/);
  assert.equal(/^Docker\/.+\s\((.+)\)$/.exec(SERVER_HEADER)![1], 'linux');
});

test('routes answer unversioned and under /vX.Y, remembering the version', async () => {
  const app = server();
  let res = await app.inject({ method: 'GET', url: '/version-seen' });
  assert.deepEqual(res.json(), { v: '1.50', modern: true });
  assertApiHeaders(res.headers, 'unversioned');
  res = await app.inject({ method: 'GET', url: '/v1.41/version-seen?x=1' });
  assert.deepEqual(res.json(), { v: '1.41', modern: false });
  assertApiHeaders(res.headers, 'versioned');
  res = await app.inject({ method: 'GET', url: '/v1.24/version-seen' });
  assert.equal(res.statusCode, 200);
  await app.close();
});

test('too old and too new versions are 400 with JSON bodies', async () => {
  const app = server();
  let res = await app.inject({ method: 'GET', url: '/v1.23/version-seen' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.match(res.json().message, /^client version 1\.23 is too old/);
  assertApiHeaders(res.headers, 'too old');
  res = await app.inject({ method: 'GET', url: '/v1.51/version-seen' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
  // An unknown path is a 404 whatever the version, as moby routes before checking it.
  res = await app.inject({ method: 'GET', url: '/v1.99/nope' });
  assert.equal(res.statusCode, 404);
  await app.close();
});

test('API headers are on responses written raw after reply.hijack()', async () => {
  const app = server();
  const res = await app.inject({ method: 'POST', url: '/v1.50/stream' });
  assert.equal(res.statusCode, 200);
  assertApiHeaders(res.headers, 'hijacked reply');
  await app.close();
});
