import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latency } from '../../bench/cri/pod-start.js';

test('bench cri latency: median, nearest-rank p95, min and max of unsorted samples', () => {
  const xs = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1
  assert.deepEqual(latency(xs), { median: 10.5, p95: 19, min: 1, max: 20 });
  assert.equal(latency([5]).p95, 5);
  assert.equal(latency([3, 1, 2]).p95, 3);
  assert.deepEqual(xs.slice(0, 2), [20, 19], 'the samples are not sorted in place');
});
