import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.js';
import { NotFoundError } from '../../src/errors.js';
import { openEventStream, openJsonStream, openRawStream } from '../../src/api/json-stream.js';
import { createApiServer } from '../../src/api/server.js';

function server() {
  const { app } = createApiServer({ engine: {} as Engine, logger: pino({ level: 'silent' }) });
  app.post('/pull/:mode', async (request, reply) => {
    const mode = (request.params as { mode: string }).mode;
    const stream = openJsonStream(reply);
    if (mode === 'early') return stream.fail(new NotFoundError('pull access denied for x, repository does not exist'));
    stream.send({ status: 'Pulling from library/busybox', id: 'latest' });
    stream.send({ status: 'Pull complete', progressDetail: {}, id: 'abc' });
    if (mode === 'late') return stream.fail(new Error('unexpected EOF'));
    if (mode === 'throw') throw new Error('thrown after start');
    stream.end();
  });
  app.post('/quiet', async (_request, reply) => openJsonStream(reply).end());
  app.get('/events', async (_request, reply) => {
    const stream = openEventStream(reply);
    stream.send({ Type: 'container', Action: 'start' });
    stream.end();
  });
  app.get('/logs', async (_request, reply) => {
    const stream = openRawStream(reply, 'application/vnd.docker.multiplexed-stream');
    stream.write(Buffer.from([1, 0, 0, 0, 0, 0, 0, 1, 0x78]));
    stream.end();
  });
  return app;
}

test('progress stream: chunked JSON messages ending in \\r\\n', async () => {
  const app = server();
  const res = await app.inject({ method: 'POST', url: '/pull/ok' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.equal(res.headers['api-version'], '1.50');
  assert.equal(
    res.body,
    '{"status":"Pulling from library/busybox","id":"latest"}\r\n{"status":"Pull complete","progressDetail":{},"id":"abc"}\r\n',
  );
  await app.close();
});

test('an error before the first message is an ordinary HTTP error', async () => {
  const app = server();
  const res = await app.inject({ method: 'POST', url: '/pull/early' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(res.json(), { message: 'pull access denied for x, repository does not exist' });
  await app.close();
});

test('an error after the start is in-band, with errorDetail and error', async () => {
  const app = server();
  for (const mode of ['late', 'throw']) {
    const res = await app.inject({ method: 'POST', url: `/pull/${mode}` });
    assert.equal(res.statusCode, 200, mode);
    const lines = res.body.split('\r\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(lines.length, 3, mode);
    const message = mode === 'late' ? 'unexpected EOF' : 'thrown after start';
    assert.deepEqual(lines[2], { errorDetail: { message }, error: message }, mode);
  }
  await app.close();
});

test('a stream with no messages still answers 200', async () => {
  const app = server();
  const res = await app.inject({ method: 'POST', url: '/quiet' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, '');
  await app.close();
});

test('event and raw streams', async () => {
  const app = server();
  let res = await app.inject({ method: 'GET', url: '/events' });
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.body, '{"Type":"container","Action":"start"}\n');
  res = await app.inject({ method: 'GET', url: '/logs' });
  assert.equal(res.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.deepEqual([...res.rawPayload], [1, 0, 0, 0, 0, 0, 0, 1, 0x78]);
  await app.close();
});
