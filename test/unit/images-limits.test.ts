// Size caps on what registries and archives send (review §7), the credentials rule for
// redirects and chain IDs (§16): sources that never end must fail at the cap and leave no
// file behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from '../../src/images/store/content-store.js';
import { SizeLimitError, readAtMost } from '../../src/images/read-at-most.js';
import { keepsCredentials } from '../../src/images/distribution/http-send.js';
import { chainIds } from '../../src/images/store/chain-id.js';

let base: string;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-limits-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A stream of 64 KiB chunks that never ends unless destroyed; counts what it handed out. */
function endless(): Readable & { produced: () => number } {
  let produced = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const r = new Readable({
    read() {
      produced += chunk.length;
      this.push(chunk);
    },
  }) as Readable & { produced: () => number };
  r.produced = () => produced;
  return r;
}

test('readAtMost stops a stream that never ends at the cap and destroys it', async () => {
  const src = endless();
  await assert.rejects(readAtMost(src, 1 << 20, 'manifest'), (err: Error) => {
    assert.ok(err instanceof SizeLimitError);
    assert.equal(err.message, 'manifest exceeds the maximum allowed size of 1048576 bytes');
    return true;
  });
  assert.ok(src.destroyed);
  assert.ok(src.produced() < 4 << 20, `read ${src.produced()} bytes`);
});

test('readAtMost cancels an endless Response body', async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(64 * 1024));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(readAtMost(new Response(body), 100_000, 'token response'), SizeLimitError);
  assert.ok(cancelled);
});

test('readAtMost returns what fits, exactly at the limit too', async () => {
  assert.equal((await readAtMost(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4, 'x')).toString(), 'abcd');
  assert.equal((await readAtMost(new Response('{"token":"t"}'), 1024, 'x')).toString(), '{"token":"t"}');
  assert.equal((await readAtMost(new Response(null), 1, 'x')).length, 0);
  await assert.rejects(readAtMost(Readable.from([Buffer.from('abcde')]), 4, 'x'), SizeLimitError);
});

test('ContentStore.write fails as soon as a blob passes its expected size, leaving no file', async () => {
  const store = new ContentStore(join(base, 'cs1'));
  await store.ensureDirs();
  const src = endless();
  await assert.rejects(store.write(src, { expectedSize: 1000, expectedDigest: `sha256:${'0'.repeat(64)}` }), {
    message: `blob sha256:${'0'.repeat(64)}: more than the expected 1000 bytes received`,
  });
  assert.ok(src.produced() < 4 << 20, `read ${src.produced()} bytes`);
  assert.deepEqual(await readdir(store.ingestDir), []);
  assert.deepEqual(await readdir(store.blobsDir), []);
});

test('ContentStore.write refuses a blob shorter than its size and one that does not hash to its digest', async () => {
  const store = new ContentStore(join(base, 'cs2'));
  await store.ensureDirs();
  const data = Buffer.from('hello');
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await assert.rejects(store.write(Readable.from([data]), { expectedSize: 10 }), { message: `blob ${digest}: expected 10 bytes, got 5` });
  await assert.rejects(store.write(Readable.from([data]), { expectedSize: 5, expectedDigest: `sha256:${'1'.repeat(64)}` }), {
    message: `filesystem layer verification failed for digest sha256:${'1'.repeat(64)}`,
  });
  assert.deepEqual(await readdir(store.ingestDir), []);
  assert.deepEqual(await readdir(store.blobsDir), []);
  assert.deepEqual(await store.write(Readable.from([data]), { expectedSize: 5, expectedDigest: digest }), { digest, size: 5 });
});

test('credentials follow a redirect only within the same origin', () => {
  const u = (s: string) => new URL(s);
  assert.equal(keepsCredentials(u('https://reg.example/v2/'), u('https://reg.example/v2/x')), true);
  assert.equal(keepsCredentials(u('https://reg.example/v2/'), u('https://reg.example:443/x')), true);
  assert.equal(keepsCredentials(u('http://127.0.0.1:5000/v2/'), u('http://127.0.0.1:5000/y')), true);
  // https -> http on the same host: URL.host is 'reg.example' for both.
  assert.equal(keepsCredentials(u('https://reg.example/v2/'), u('http://reg.example/v2/x')), false);
  assert.equal(keepsCredentials(u('https://reg.example/'), u('https://reg.example:8443/')), false);
  assert.equal(keepsCredentials(u('http://127.0.0.1:5000/'), u('http://127.0.0.1:5001/')), false);
  assert.equal(keepsCredentials(u('https://reg.example/'), u('https://cdn.example/')), false);
});

test('chain IDs of many layers: each is the chain of its prefix, per the OCI spec', () => {
  const n = 3000;
  const diffIds = Array.from({ length: n }, (_, i) => `sha256:${createHash('sha256').update(String(i)).digest('hex')}`);
  const chains = chainIds(diffIds);
  assert.equal(chains.length, n);
  let expected = diffIds[0];
  assert.equal(chains[0], expected);
  for (let i = 1; i < n; i++) {
    expected = `sha256:${createHash('sha256').update(`${expected} ${diffIds[i]}`).digest('hex')}`;
    assert.equal(chains[i], expected);
  }
  assert.deepEqual(chainIds(diffIds.slice(0, 10)), chains.slice(0, 10));
});
