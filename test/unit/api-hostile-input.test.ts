import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.js';
import { SystemError } from '../../src/errors.js';
import { rawBody, rawBodyRoute, readText } from '../../src/api/body.js';
import { hideHostPaths, messageOf } from '../../src/api/errors.js';
import { errorMessageLine } from '../../src/api/json-stream.js';
import { nulByteAt } from '../../src/api/nul-bytes.js';
import { createApiServer } from '../../src/api/server.js';

function server(t: { after(fn: () => void): void }) {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-data-'));
  const execRoot = mkdtempSync(join(tmpdir(), 'berth-exec-'));
  t.after(() => {
    rmSync(dataRoot, { recursive: true, force: true });
    rmSync(execRoot, { recursive: true, force: true });
  });
  // What the daemon does with its configuration at start.
  hideHostPaths({ dataRoot, execRoot });
  const { app } = createApiServer({ engine: {} as Engine, logger: pino({ level: 'silent' }) });
  const snapshot = join(dataRoot, 'snapshots', 'containers', 'abc', 'rootfs');
  // What an archive handler did with the client's path before the check: Node refused it.
  app.put('/archive', rawBodyRoute, async (request) => {
    const path = (request.query as { path: string }).path;
    await readText(rawBody(request), 1 << 20);
    await open(join(snapshot, path), 'r');
    return {};
  });
  app.get('/stat', async () => stat(join(snapshot, 'missing')));
  app.get('/refused', async () => open(`${snapshot}/\0`, 'r'));
  app.get('/system', async () => {
    throw new SystemError(`mount ${snapshot}: device busy; exec-root ${execRoot}/abc`);
  });
  app.post('/json', async (request) => ({ got: request.body ?? null }));
  app.get('/c/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  return { app, dataRoot, execRoot };
}

test('a NUL byte in a query value, a URL parameter or a JSON string is a 400 before the handler', async (t) => {
  const { app, dataRoot } = server(t);
  const cases: Array<[string, string, string | undefined, string]> = [
    ['PUT', '/archive?path=%00', 'tar', 'invalid query parameter path: contains a NUL byte'],
    // a repeated key is its first value (Go's r.Form.Get); that value is checked
    ['PUT', '/archive?path=a%00b&path=c', 'tar', 'invalid query parameter path: contains a NUL byte'],
    ['POST', '/json', '{"Cmd":["sh","-c","a\\u0000b"]}', 'invalid body.Cmd[2]: contains a NUL byte'],
    ['POST', '/json', '{"Labels":{"a\\u0000":"b"}}', 'invalid body.Labels key: contains a NUL byte'],
    ['POST', '/json?name=web%00', '{}', 'invalid query parameter name: contains a NUL byte'],
    ['GET', '/c/a%00b', undefined, 'invalid URL parameter id: contains a NUL byte'],
  ];
  for (const [method, url, body, message] of cases) {
    const res = await app.inject({
      method: method as 'PUT' | 'POST' | 'GET',
      url,
      payload: body,
      headers: body === undefined ? {} : { 'content-type': body.startsWith('{') ? 'application/json' : 'application/x-tar' },
    });
    assert.equal(res.statusCode, 400, url);
    assert.deepEqual(res.json(), { message }, url);
    assert.ok(!res.body.includes(dataRoot));
  }
  const ok = await app.inject({ method: 'POST', url: '/json', payload: '{"Env":["A=b"]}', headers: { 'content-type': 'application/json' } });
  assert.deepEqual(ok.json(), { got: { Env: ['A=b'] } });
  await app.close();
});

test('no error answer carries a host path under the data-root or exec-root', async (t) => {
  const { app, dataRoot, execRoot } = server(t);
  const stat = await app.inject({ method: 'GET', url: '/stat' });
  assert.equal(stat.statusCode, 500);
  assert.deepEqual(stat.json(), { message: 'stat: no such file or directory' });
  const refused = await app.inject({ method: 'GET', url: '/refused' });
  assert.equal(refused.statusCode, 500);
  assert.ok(!refused.body.includes(dataRoot), refused.body);
  assert.match(refused.json().message, /without null bytes$/);
  const system = await app.inject({ method: 'GET', url: '/system' });
  assert.deepEqual(system.json(), { message: 'mount <data-root>/snapshots/containers/abc/rootfs: device busy; exec-root <exec-root>/abc' });
  for (const res of [stat, refused, system]) {
    assert.ok(!res.body.includes(dataRoot) && !res.body.includes(execRoot), res.body);
  }
  await app.close();
});

test('in-band stream errors (pull, load) are scrubbed the same way', (t) => {
  const { dataRoot } = server(t);
  const line = errorMessageLine(new SystemError(`unpack ${dataRoot}/snapshots/layers/.tmp-1/x: no space left on device`));
  assert.ok(!line.includes(dataRoot), line);
  assert.equal(JSON.parse(line).error, 'unpack <data-root>/snapshots/layers/.tmp-1/x: no space left on device');
});

test('messageOf rewords Node errno errors to their operation and reason', () => {
  const err = Object.assign(new Error("EACCES: permission denied, open '/srv/x'"), { code: 'EACCES', errno: -13, syscall: 'open', path: '/srv/x' });
  assert.equal(messageOf(err), 'open: permission denied');
  // A berth error keeps its words.
  assert.equal(messageOf(new SystemError('runc failed: exit status 1')), 'runc failed: exit status 1');
});

test('nulByteAt names the first field holding a NUL byte', () => {
  assert.equal(nulByteAt({ a: ['x', 'y\0'] }, 'body'), 'body.a[1]');
  assert.equal(nulByteAt({ a: { b: 1, c: null } }, 'body'), undefined);
  assert.equal(nulByteAt('\0', 'path'), 'path');
});
