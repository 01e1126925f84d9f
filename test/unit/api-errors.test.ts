import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from '../../src/errors.js';
import { rawBody, rawBodyRoute, readText } from '../../src/api/body.js';
import { rawErrorResponse, statusOf } from '../../src/api/errors.js';
import { createApiServer } from '../../src/api/server.js';

function server() {
  const { app } = createApiServer({ engine: {} as Engine, logger: pino({ level: 'silent' }) });
  app.get('/throw/:kind', async (request) => {
    const kind = (request.params as { kind: string }).kind;
    const errors: Record<string, Error> = {
      notfound: new NotFoundError('No such container: x'),
      conflict: new ConflictError('in use'),
      invalid: new InvalidParameterError('bad'),
      notmodified: new NotModifiedError('already started'),
      plain: new Error('boom'),
    };
    throw errors[kind];
  });
  app.get('/object', async () => ({ Id: 'abc' }));
  app.post('/json', async (request) => ({ got: request.body ?? null }));
  app.post('/raw', rawBodyRoute, async (request) => ({ text: await readText(rawBody(request), 1 << 20) }));
  return app;
}

test('typed errors map to Docker statuses', () => {
  assert.equal(statusOf(new NotFoundError('x')), 404);
  assert.equal(statusOf(new InvalidParameterError('x')), 400);
  assert.equal(statusOf(new ConflictError('x')), 409);
  assert.equal(statusOf(new NotModifiedError('x')), 304);
  assert.equal(statusOf(new ForbiddenError('x')), 403);
  assert.equal(statusOf(new UnauthorizedError('x')), 401);
  assert.equal(statusOf(new NotImplementedError('x')), 501);
  assert.equal(statusOf(new UnavailableError('x')), 503);
  assert.equal(statusOf(new SystemError('x')), 500);
  assert.equal(statusOf(new TypeError('x')), 500);
  assert.equal(statusOf('string'), 500);
});

test('error responses are {"message"} with Content-Type exactly application/json', async () => {
  const app = server();
  const cases: Array<[string, number, string]> = [
    ['notfound', 404, 'No such container: x'],
    ['conflict', 409, 'in use'],
    ['invalid', 400, 'bad'],
    ['plain', 500, 'boom'],
  ];
  for (const [kind, status, message] of cases) {
    const res = await app.inject({ method: 'GET', url: `/throw/${kind}` });
    assert.equal(res.statusCode, status, kind);
    assert.equal(res.headers['content-type'], 'application/json', kind);
    assert.deepEqual(res.json(), { message }, kind);
    assert.equal(res.headers['api-version'], '1.50');
  }
  await app.close();
});

test('304 has an empty body', async () => {
  const app = server();
  const res = await app.inject({ method: 'GET', url: '/throw/notmodified' });
  assert.equal(res.statusCode, 304);
  assert.equal(res.body, '');
  await app.close();
});

test('successful JSON replies also use the bare application/json type', async () => {
  const app = server();
  const res = await app.inject({ method: 'GET', url: '/v1.44/object' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(res.json(), { Id: 'abc' });
  await app.close();
});

test('unknown paths and methods: 404 page not found; OPTIONS anything: 200', async () => {
  const app = server();
  for (const [method, url] of [['GET', '/nope'], ['DELETE', '/object'], ['GET', '/v1.50/nope']] as const) {
    const res = await app.inject({ method, url });
    assert.equal(res.statusCode, 404, `${method} ${url}`);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.json(), { message: 'page not found' });
    assert.equal(res.headers['server'], 'Docker/28.2.2 (linux)');
  }
  const res = await app.inject({ method: 'OPTIONS', url: '/containers/json' });
  assert.equal(res.statusCode, 200);
  await app.close();
});

test('JSON bodies: parsed, empty means none, bad JSON and wrong content type are 400', async () => {
  const app = server();
  let res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json' }, payload: '{"Image":"busybox"}' });
  assert.deepEqual(res.json(), { got: { Image: 'busybox' } });
  res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: '{"a":1}' });
  assert.deepEqual(res.json(), { got: { a: 1 } });
  res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json' }, payload: '' });
  assert.deepEqual(res.json(), { got: null });
  res = await app.inject({ method: 'POST', url: '/json' });
  assert.deepEqual(res.json(), { got: null });
  // The CLI sends text/plain with no body on some POSTs: fine.
  res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'text/plain' } });
  assert.equal(res.statusCode, 200);

  res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json' }, payload: '{"Image":' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.match(res.json().message, /^invalid JSON: /);

  res = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'text/plain' }, payload: '{"a":1}' });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(res.json(), { message: "unsupported Content-Type header (text/plain): must be 'application/json'" });
  await app.close();
});

test('raw-body routes get the unread stream whatever the content type', async () => {
  const app = server();
  for (const type of ['application/x-tar', 'application/json', 'text/plain', undefined]) {
    const headers: Record<string, string> = type ? { 'content-type': type } : {};
    const res = await app.inject({ method: 'POST', url: '/raw', headers, payload: 'tar bytes' });
    assert.equal(res.statusCode, 200, String(type));
    assert.deepEqual(res.json(), { text: 'tar bytes' });
  }
  await app.close();
});

test('rawErrorResponse is a complete HTTP response', () => {
  const text = rawErrorResponse(new NotFoundError('No such exec instance: x'));
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(head!, /\r\nContent-Type: application\/json\r\n/);
  assert.match(head!, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(body!)}\r\n`));
  assert.match(head!, /\r\nApi-Version: 1\.50\r\n/);
  assert.equal(body, '{"message":"No such exec instance: x"}');
});
