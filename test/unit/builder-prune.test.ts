// docker builder prune's selection (src/engine/disk/builder-prune.ts): moby's filter checks and
// words, dangling vs all, keep-storage least-recently-used first, children removed before parents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Filters } from '../../src/api/filters.js';
import { parseBuilderPruneFilters, pruneBuildCache } from '../../src/engine/disk/builder-prune.js';
import type { CacheRecordWithEntry } from '../../src/engine/disk/build-cache-records.js';

function rec(n: string, o: { shared?: boolean; inUse?: boolean; size?: number; used?: string; parent?: string }): CacheRecordWithEntry {
  const id = `sha256:${n.repeat(64)}`;
  return {
    entry: { id, parent: o.parent ?? '', description: `step ${n}`, createdAt: `2024-01-0${n}T00:00:00Z`, lastUsedAt: o.used ?? null, usageCount: 0 },
    ownChain: `chain-${n}`,
    record: { ID: n.repeat(64), Type: 'regular', Description: `step ${n}`, InUse: !!o.inUse, Shared: !!o.shared, Size: o.size ?? 10, CreatedAt: '', LastUsedAt: null, UsageCount: 0 },
  };
}

function run(records: CacheRecordWithEntry[], opts: { all?: boolean; keepStorage?: number; filters?: Record<string, string[]> } = {}) {
  const forgotten: string[] = [];
  const removed: string[] = [];
  const report = pruneBuildCache(
    {
      cache: { entries: () => [], delete: (ids) => forgotten.push(...ids) },
      records: () => records,
      untagged: () => true,
      remove: (id) => {
        removed.push(id[7]);
        return [{ Deleted: id }, { Deleted: `chain-${id[7]}` }];
      },
      layerSize: () => 10,
    },
    { all: !!opts.all, keepStorage: opts.keepStorage ?? 0, filters: Filters.of(opts.filters ?? {}) },
    Date.parse('2024-02-01T00:00:00Z'),
  );
  return { report, forgotten: forgotten.map((i) => i[7]), removed };
}

test('without all only dangling, unused entries go; children before parents; reclaimed = their layers', () => {
  const rs = [rec('1', { shared: true }), rec('2', {}), rec('3', { inUse: true }), rec('4', { parent: `sha256:${'2'.repeat(64)}` })];
  const { report, forgotten, removed } = run(rs);
  assert.deepEqual(forgotten.sort(), ['2', '4']);
  assert.deepEqual(removed, ['4', '2']);
  assert.equal(report.SpaceReclaimed, 20);
  assert.deepEqual(run(rs, { all: true }).forgotten.sort(), ['1', '2', '4']);
});

test('keep-storage keeps the most recently used entries that fit', () => {
  const rs = [rec('1', { used: '2024-01-20T00:00:00Z' }), rec('2', { used: '2024-01-10T00:00:00Z' }), rec('3', { used: '2024-01-30T00:00:00Z' })];
  assert.deepEqual(run(rs, { keepStorage: 20 }).forgotten, ['2']);
  assert.deepEqual(run(rs, { keepStorage: 10 }).forgotten.sort(), ['1', '2']);
});

test('until keeps entries used more recently; field filters match one value', () => {
  const rs = [rec('1', { used: '2024-01-31T12:00:00Z' }), rec('2', { used: '2024-01-02T00:00:00Z' })];
  assert.deepEqual(run(rs, { filters: { until: ['24h'] } }).forgotten, ['2']);
  assert.deepEqual(run(rs, { filters: { id: ['11'] } }).forgotten, ['1']);
  assert.deepEqual(run(rs, { filters: { description: ['step 2'] } }).forgotten, ['2']);
});

test("moby's filter errors", () => {
  assert.throws(() => parseBuilderPruneFilters(Filters.of({ until: ['1h'], 'unused-for': ['1h'] })), { message: 'conflicting filters: "until" and "unused-for"' });
  assert.throws(() => parseBuilderPruneFilters(Filters.of({ until: ['1h', '2h'] })), { message: 'filters expect only one value' });
  assert.throws(() => parseBuilderPruneFilters(Filters.of({ id: ['a', 'b'] })), { message: 'filters expect only one value' });
  assert.throws(() => parseBuilderPruneFilters(Filters.of({ 'unused-for': ['soon'] })), /^InvalidParameterError: "unused-for" filter expects a duration/);
});
