// GET /images/json's selection and shape, checked against moby 28's graphdriver ImageService.Images
// and getImagesJSON: one entry per image, filters, <none> refs per API version, shared size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Filters } from '../../src/api/filters.js';
import { listImages, type ImageListOptions } from '../../src/engine/image-list.js';
import { imageSummaryView } from '../../src/engine/image-view.js';
import { InvalidParameterError, NotFoundError } from '../../src/errors.js';
import type { ImageRecord } from '../../src/images/types.js';

const D1 = `sha256:${'1'.repeat(64)}`;

function image(n: string, created: string, refs: { tags?: string[]; digests?: string[]; labels?: Record<string, string>; layers?: string[] } = {}): ImageRecord {
  return {
    id: `sha256:${n.repeat(64)}`,
    repoTags: refs.tags ?? [],
    repoDigests: refs.digests ?? [],
    config: {
      architecture: 'amd64', os: 'linux', created,
      config: refs.labels ? { Labels: refs.labels } : {},
      rootfs: { type: 'layers', diff_ids: [] },
    },
    size: 100,
    storedAt: created,
  };
}

const OLD = image('a', '2020-01-01T00:00:00Z', { tags: ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1', 'localhost:5000/tools/bb:v1'], digests: [`docker.io/library/busybox@${D1}`], labels: { tier: 'base' }, layers: ['c1'] });
const MID = image('b', '2021-01-01T00:00:00Z', { tags: ['docker.io/me/app:2'], labels: { tier: 'web', team: 'x' }, layers: ['c1', 'c2'] });
const UNTAGGED = image('c', '2022-01-01T00:00:00Z', { layers: ['c3'] });
const DIGEST_ONLY = image('d', '2023-01-01T00:00:00Z', { digests: [`docker.io/library/alpine@${D1}`] });
const ALL = [OLD, MID, UNTAGGED, DIGEST_ONLY];
const LAYERS: Record<string, string[]> = { [OLD.id]: ['c1'], [MID.id]: ['c1', 'c2'], [UNTAGGED.id]: ['c3'], [DIGEST_ONLY.id]: [] };
const SIZES: Record<string, number> = { c1: 7, c2: 11, c3: 13 };

function opts(filters: Record<string, string[]>, extra: Partial<ImageListOptions> = {}): ImageListOptions {
  return {
    filters: Filters.of(filters),
    resolve: (ref) => {
      const hit = ALL.find((i) => i.id === ref || i.id.startsWith(`sha256:${ref}`) || i.repoTags.includes(`docker.io/library/${ref}`) || i.repoTags.includes(`docker.io/${ref}`));
      if (!hit) throw new NotFoundError(`No such image: ${ref}`);
      return hit;
    },
    chainIdsOf: (id) => LAYERS[id] ?? [],
    layerSize: (c) => SIZES[c] ?? 0,
    ...extra,
  };
}
const ids = (f: Record<string, string[]>) => listImages(ALL, opts(f)).map((e) => e.image.id[7]);

describe('image list: one entry per image', () => {
  it('lists each image once with all its tags and digests, familiar, newest first', () => {
    const out = listImages(ALL, opts({}));
    assert.deepEqual(out.map((e) => e.image.id[7]), ['d', 'c', 'b', 'a']);
    const old = out.at(-1)!;
    assert.deepEqual(old.repoTags, ['busybox:latest', 'busybox:1', 'localhost:5000/tools/bb:v1']);
    assert.deepEqual(old.repoDigests, [`busybox@${D1}`]);
  });

  it('untagged images: empty lists from API 1.43, <none>:<none> and <none>@<none> before', () => {
    const e = listImages(ALL, opts({})).find((x) => x.image === UNTAGGED)!;
    const now = imageSummaryView(e, {});
    assert.deepEqual([now.RepoTags, now.RepoDigests], [[], []]);
    const old = imageSummaryView(e, { noneRefs: true, virtualSize: true });
    assert.deepEqual([old.RepoTags, old.RepoDigests, old.VirtualSize], [['<none>:<none>'], ['<none>@<none>'], 100]);
  });

  it('summary fields in moby order; Containers and SharedSize -1 unless asked; Labels null without labels', () => {
    const e = listImages(ALL, opts({})).find((x) => x.image === UNTAGGED)!;
    const v = imageSummaryView(e, {});
    assert.deepEqual(Object.keys(v), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size']);
    assert.equal(v.Containers, -1);
    assert.equal(v.SharedSize, -1);
    assert.equal(v.Labels, null);
    assert.equal(v.Created, Date.parse('2022-01-01T00:00:00Z') / 1000);
  });

  it('shared-size: the layers another image also stands on', () => {
    const out = listImages(ALL, opts({}, { sharedSize: true }));
    const by = (i: ImageRecord) => out.find((e) => e.image === i)!.sharedSize;
    assert.deepEqual([by(OLD), by(MID), by(UNTAGGED), by(DIGEST_ONLY)], [7, 7, 0, 0]);
  });
});

describe('image list: intermediate images', () => {
  // UNTAGGED has a child (MID names it as parent): moby's Images() hides it without all
  const hasChildren = (id: string) => id === UNTAGGED.id;
  it('an untagged image with children shows only with all, and never as dangling', () => {
    const list = (f: Record<string, string[]>, all: boolean) => listImages(ALL, opts(f, { all, hasChildren })).map((e) => e.image.id[7]);
    assert.deepEqual(list({}, false), ['d', 'b', 'a']);
    assert.deepEqual(list({}, true), ['d', 'c', 'b', 'a']);
    assert.deepEqual(list({ dangling: ['true'] }, true), ['d']);
  });

  it('ParentId is the parent image', () => {
    const e = listImages([{ ...MID, parent: UNTAGGED.id }], opts({}))[0];
    assert.equal(imageSummaryView(e, {}).ParentId, UNTAGGED.id);
  });
});

describe('image list filters', () => {
  it('dangling=true: untagged images (digest-only ones too); dangling=false: not the untagged', () => {
    assert.deepEqual(ids({ dangling: ['true'] }), ['d', 'c']);
    assert.deepEqual(ids({ dangling: ['1'] }), ['d', 'c']);
    assert.deepEqual(ids({ dangling: ['false'] }), ['d', 'b', 'a']);
  });

  it('dangling with a bad or a second value is moby\'s invalid filter', () => {
    assert.throws(() => ids({ dangling: ['yes'] }), (e: Error) => e instanceof InvalidParameterError && e.message === "invalid filter 'dangling=[yes]'");
    assert.throws(() => ids({ dangling: ['true', 'false'] }), { message: "invalid filter 'dangling=[true false]'" });
  });

  it('unknown keys are refused', () => {
    assert.throws(() => ids({ ancestor: ['x'] }), { message: "invalid filter 'ancestor'" });
  });

  it('label: key, key=value, several ANDed', () => {
    assert.deepEqual(ids({ label: ['tier'] }), ['b', 'a']);
    assert.deepEqual(ids({ label: ['tier=web'] }), ['b']);
    assert.deepEqual(ids({ label: ['tier=web', 'team=y'] }), []);
  });

  it('before and since compare creation times with the named image, strictly', () => {
    assert.deepEqual(ids({ before: ['me/app:2'] }), ['a']);
    assert.deepEqual(ids({ since: ['me/app:2'] }), ['d', 'c']);
    assert.deepEqual(ids({ since: ['busybox:latest'], before: ['me/app:2'] }), []);
    assert.throws(() => ids({ before: ['nope'] }), NotFoundError);
  });

  it('until: a timestamp or date', () => {
    assert.deepEqual(ids({ until: ['2021-06-01T00:00:00Z'] }), ['b', 'a']);
    assert.deepEqual(ids({ until: [String(Date.parse('2020-06-01T00:00:00Z') / 1000)] }), ['a']);
  });

  it('reference: glob on the familiar string, then on the familiar name; lists only the refs that matched', () => {
    assert.deepEqual(ids({ reference: ['busybox'] }), ['a']);
    const [bb] = listImages(ALL, opts({ reference: ['busybox:1'] }));
    assert.deepEqual([bb!.repoTags, bb!.repoDigests], [['busybox:1'], []]);
    const [n] = listImages(ALL, opts({ reference: ['busybox'] }));
    assert.deepEqual([n!.repoTags, n!.repoDigests], [['busybox:latest', 'busybox:1'], [`busybox@${D1}`]]);
    assert.deepEqual(ids({ reference: ['*/*'] }), ['b']);
    assert.deepEqual(ids({ reference: ['localhost:5000/*/*'] }), ['a']);
    assert.deepEqual(ids({ reference: ['alpine'] }), ['d']);
    assert.deepEqual(ids({ reference: ['me/app:[0-9]', 'nothing'] }), ['b']);
    assert.throws(() => ids({ reference: ['busy[box'] }), { message: 'syntax error in pattern' });
  });
});
