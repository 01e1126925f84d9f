import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameterError } from '../../src/errors.js';
import { Filters } from '../../src/api/filters.js';
import { imagePruneCandidate, parseImagePruneFilters, pruneImages, type PrunableImages } from '../../src/engine/image-prune.js';
import type { ImageDeleteItem, ImageRecord } from '../../src/images/types.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const f = (o: Record<string, string[]>) => parseImagePruneFilters(Filters.of(o), NOW);

function img(id: string, o: { tags?: string[]; digests?: string[]; created?: string; labels?: Record<string, string> } = {}): ImageRecord {
  return {
    id,
    repoTags: o.tags ?? [],
    repoDigests: o.digests ?? [],
    config: { created: o.created ?? '2026-01-10T11:00:00Z', config: { Labels: o.labels ?? null } } as ImageRecord['config'],
    size: 0,
    storedAt: '2026-01-10T11:00:00Z',
  };
}

test('image prune filters: dangling defaults to true; false/0 means every image', () => {
  assert.equal(f({}).danglingOnly, true);
  assert.equal(f({ dangling: ['false'] }).danglingOnly, false);
  assert.equal(f({ dangling: ['0'] }).danglingOnly, false);
  // moby's GetBoolOrDefault: exact values only
  assert.throws(() => f({ dangling: ['TRUE'] }), { message: "invalid filter 'dangling=[TRUE]'" });
  assert.throws(() => f({ dangling: ['maybe'] }), InvalidParameterError);
  assert.throws(() => f({ dangling: ['true', 'false'] }), { message: "invalid filter 'dangling=[true false]'" });
  assert.throws(() => f({ before: ['x'] }), /invalid filter 'before'/);
});

test('image prune filters: until is a duration, unix seconds or a date; only one', () => {
  assert.equal(f({ until: ['1h'] }).until!.getTime(), NOW - 3_600_000);
  assert.equal(f({ until: ['1700000000'] }).until!.getTime(), 1_700_000_000_000);
  assert.equal(f({ until: ['2026-01-01T00:00:00Z'] }).until!.toISOString(), '2026-01-01T00:00:00.000Z');
  assert.throws(() => f({ until: ['1h', '2h'] }), /more than one until filter specified/);
  assert.throws(() => f({ until: ['soon'] }), /failed to parse value as time or duration/);
});

test('image prune candidates: dangling, until, label and label! (excluded only when every label! matches)', () => {
  const tagged = img('sha256:a', { tags: ['docker.io/library/a:latest'] });
  const loose = img('sha256:b', { labels: { keep: 'no', team: 'x' } });
  assert.equal(imagePruneCandidate(tagged, f({})), false);
  assert.equal(imagePruneCandidate(tagged, f({ dangling: ['false'] })), true);
  assert.equal(imagePruneCandidate(loose, f({})), true);
  assert.equal(imagePruneCandidate(loose, f({ until: ['2h'] })), false, 'created after until');
  assert.equal(imagePruneCandidate(loose, f({ until: ['30m'] })), true);
  assert.equal(imagePruneCandidate(img('sha256:c', { created: '' }), f({ until: ['1h'] })), false, 'no date: never pruned by until');
  assert.equal(imagePruneCandidate(loose, f({ label: ['keep=no'] })), true);
  assert.equal(imagePruneCandidate(loose, f({ label: ['keep=yes'] })), false);
  assert.equal(imagePruneCandidate(loose, f({ label: ['keep', 'team=x'] })), true);
  assert.equal(imagePruneCandidate(loose, f({ 'label!': ['keep'] })), false);
  assert.equal(imagePruneCandidate(loose, f({ 'label!': ['keep', 'other'] })), true);
  assert.equal(imagePruneCandidate(img('sha256:d'), f({ label: ['keep'] })), false);
});

test('pruneImages removes by reference or ID, skips conflicts, sums the deleted layers', () => {
  const removed: string[] = [];
  const images: PrunableImages = {
    list: () => [
      img('sha256:dangling'),
      img('sha256:digestonly', { digests: ['docker.io/library/x@sha256:1'] }),
      img('sha256:used'),
      img('sha256:tagged', { tags: ['docker.io/library/t:1'] }),
    ],
    layerSizes: (id) => new Map([[`sha256:chain-${id.slice(7)}`, 100]]),
    remove: (name): ImageDeleteItem[] => {
      if (name === 'sha256:used') throw new Error('conflict');
      removed.push(name);
      const id = name === 'sha256:dangling' ? name : 'sha256:digestonly';
      return [...(name.includes('@') ? [{ Untagged: 'x@sha256:1' }] : []), { Deleted: id }, { Deleted: `sha256:chain-${id.slice(7)}` }];
    },
  };
  const r = pruneImages(images, new Filters(), () => null);
  assert.deepEqual(removed, ['sha256:dangling', 'docker.io/library/x@sha256:1']);
  assert.equal(r.SpaceReclaimed, 200);
  assert.equal(r.ImagesDeleted!.length, 5);
  const none = pruneImages({ ...images, list: () => [] }, new Filters(), () => null);
  assert.deepEqual(none, { ImagesDeleted: null, SpaceReclaimed: 0 });
});
