// The classic builder's cache key (moby's image/cache compare) and the cache rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { BuildCacheStore, cacheKey } from '../../src/images/build/build-cache.js';

const base = { Cmd: ['/bin/sh', '-c', '#(nop) ', 'ENV A=1'], Env: ['PATH=/bin', 'A=1'], Labels: { a: '1', b: '2' } };

test('the key follows what moby compares: Cmd, Env in order, Labels as a map, ports and volumes as sets', () => {
  assert.equal(cacheKey(base), cacheKey({ ...base, Labels: { b: '2', a: '1' } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, Cmd: ['/bin/sh', '-c', '#(nop) ', 'ENV A=2'] }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, Env: ['A=1', 'PATH=/bin'] }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, Labels: { a: '1' } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, User: 'nobody' }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, Entrypoint: ['sh'] }));
  assert.equal(cacheKey({ ...base, ExposedPorts: { '80/tcp': {}, '53/udp': {} } }), cacheKey({ ...base, ExposedPorts: { '53/udp': {}, '80/tcp': {} } }));
  assert.notEqual(cacheKey({ ...base, Volumes: { '/a': {} } }), cacheKey(base));
  // null and absent are one thing, as in Go's nil slices
  assert.equal(cacheKey({ ...base, Entrypoint: null }), cacheKey(base));
});

test('rows: the newest live image of (parent, key) is the hit; gone images are forgotten; usage counted', () => {
  const db = new Database(':memory:');
  const store = new BuildCacheStore(db);
  store.record('sha256:old', 'sha256:p', base, 'ENV A=1');
  store.record('sha256:new', 'sha256:p', base, 'ENV A=1');
  const live = new Set(['sha256:old', 'sha256:new']);
  assert.equal(store.find('sha256:p', base, (id) => live.has(id)), 'sha256:new');
  assert.equal(store.find('sha256:other', base, (id) => live.has(id)), undefined);
  live.delete('sha256:new');
  assert.equal(store.find('sha256:p', base, (id) => live.has(id)), 'sha256:old');
  const rows = store.entries();
  assert.deepEqual(rows.map((r) => r.id), ['sha256:old']);
  assert.equal(rows[0].usageCount, 1);
  assert.ok(rows[0].lastUsedAt);
  store.delete(['sha256:old']);
  assert.deepEqual(store.entries(), []);
});
