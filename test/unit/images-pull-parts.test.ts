// Pure parts of pull: platform matching in manifest lists (containerd's normalisation as moby
// uses it) and the daemon-wide sharing of downloads (one download per key, a caller leaving
// never stops it for the others, the last one leaving does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, matchPlatform } from '../../src/images/distribution/platform-match.js';
import { SharedDownloads } from '../../src/images/store/shared-downloads.js';
import type { Descriptor } from '../../src/images/distribution/registry-client.js';

const entry = (architecture: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${architecture}${variant ?? ''}`.padEnd(71, '0'),
  size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

test('platforms: arm64 is arm64/v8, an entry without a variant fits, an asked variant must match', () => {
  const list = [entry('amd64'), entry('arm64', 'v8'), entry('arm', 'v6'), entry('arm', 'v7')];
  assert.equal(matchPlatform(list, { os: 'linux', architecture: 'amd64' }), list[0]);
  assert.equal(matchPlatform(list, { os: 'linux', architecture: 'arm64' }), list[1]);
  assert.equal(matchPlatform([entry('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.platform?.architecture, 'arm64');
  assert.equal(matchPlatform(list, { os: 'linux', architecture: 'arm' }), list[3], 'arm means arm/v7');
  assert.equal(matchPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v6' }), list[2]);
  assert.equal(matchPlatform(list, { os: 'windows', architecture: 'amd64' }), undefined);
  assert.equal(matchPlatform([{ mediaType: 'x', digest: 'sha256:0', size: 1 }], { os: 'linux', architecture: 'amd64' }), undefined, 'an entry without a platform never fits');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64' }), 'linux/arm64/v8');
  assert.equal(formatPlatform({ os: 'linux', architecture: 's390x' }), 'linux/s390x');
});

test('shared downloads: one start per key, progress to every waiter, a leaver does not stop it', async () => {
  const shared = new SharedDownloads();
  let starts = 0;
  let finish!: () => void;
  let startSignal!: AbortSignal;
  let report!: (n: number) => void;
  const start = (signal: AbortSignal, progress: (n: number) => void) => {
    starts++;
    startSignal = signal;
    report = progress;
    return new Promise<void>((resolve) => (finish = resolve));
  };
  const leaver = new AbortController();
  const seenA: number[] = [];
  const seenB: number[] = [];
  const a = shared.run('k', start, { signal: leaver.signal, onProgress: (n) => seenA.push(n) });
  const b = shared.run('k', start, { onProgress: (n) => seenB.push(n) });
  await new Promise((r) => setImmediate(r));
  assert.equal(starts, 1);
  report(1);
  leaver.abort(new Error('client gone'));
  await assert.rejects(a, /client gone/);
  assert.equal(startSignal.aborted, false, 'the other waiter keeps it going');
  report(2);
  finish();
  await b;
  assert.deepEqual(seenA, [1]);
  assert.deepEqual(seenB, [1, 2]);
  assert.deepEqual(shared.inFlight(), []);
});

test('shared downloads: the last waiter leaving aborts it, and a new run waits for it to wind down', async () => {
  const shared = new SharedDownloads();
  let wound = false;
  const first = (signal: AbortSignal) =>
    new Promise<void>((_resolve, reject) =>
      signal.addEventListener('abort', () =>
        setTimeout(() => {
          wound = true;
          reject(signal.reason);
        }, 5),
      ),
    );
  const c = new AbortController();
  const p = shared.run('k', first, { signal: c.signal });
  await new Promise((r) => setImmediate(r));
  c.abort(new Error('gone'));
  await assert.rejects(p, /gone/);
  assert.equal(wound, true, 'the last one out waits for the download to stop');
  let second = 0;
  await shared.run('k', async () => {
    second++;
  });
  assert.equal(second, 1);
});
