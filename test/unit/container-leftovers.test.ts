// Start-up's one look for stopped containers' leftovers (src/engine/containers/leftovers.ts)
// and the bounded fan-out it runs cleanups with (src/util/each-limited.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountedIds } from '../../src/engine/containers/leftovers.js';
import { eachLimited } from '../../src/util/each-limited.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

test('mountedIds: IDs in mount points under the roots only, escapes decoded', () => {
  const info = [
    `1 0 0:1 / / rw - overlay overlay rw`,
    `2 1 0:2 / /var/lib/berth/snapshots/${A}/merged rw - overlay overlay rw`,
    `3 1 0:3 / /var/lib/berth/containers/${B}/shm rw - tmpfs shm rw`,
    `4 1 0:4 / /elsewhere/${C}/merged rw - overlay overlay rw`,
    `5 1 0:5 / /data\\040root/containers/${C}/shm rw - tmpfs shm rw`,
    `6 1 0:6 / /var/lib/berth/volumes/v/_data rw - tmpfs tmpfs rw`,
    '',
  ].join('\n');
  assert.deepEqual([...mountedIds(info, ['/var/lib/berth'])].sort(), [A, B]);
  assert.deepEqual([...mountedIds(info, ['/data root'])], [C]);
  assert.deepEqual([...mountedIds(info, ['/var/lib/berth2'])], []);
});

test('eachLimited: every item once, never more than width at a time, an error after the rest ran', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  await eachLimited([...Array(50).keys()], 4, async (i) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setImmediate(r));
    seen.push(i);
    inFlight--;
  });
  assert.equal(most, 4);
  assert.deepEqual(seen.sort((a, b) => a - b), [...Array(50).keys()]);
  const ran: number[] = [];
  await assert.rejects(
    eachLimited([1, 2, 3], 2, async (i) => {
      ran.push(i);
      if (i === 1) throw new Error('one');
    }),
    /one/,
  );
  assert.deepEqual(ran, [1, 2, 3]);
  await eachLimited([], 8, async () => assert.fail('no items'));
});
