// Mount specifications parsed and refused as moby's linux parser does (volume/mounts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseApiMount, parseBindSpec, parseVolumesFrom, tmpfsData, validMountMode } from '../../src/engine/volumes/mount-spec.js';
import { filterVolumes, pruneCandidates } from '../../src/engine/volumes/filters.js';
import { validateDriverOpts } from '../../src/engine/volumes/local-driver.js';
import { validateVolumeName } from '../../src/engine/volumes/names.js';
import { parseVolumeCreate } from '../../src/engine/volumes/create-request.js';
import type { VolumeRecord } from '../../src/engine/volumes/model.js';
import { Filters } from '../../src/api/filters.js';

describe('-v (HostConfig.Binds)', () => {
  it('parses host binds with their mode', () => {
    assert.deepEqual(parseBindSpec('/h:/c:ro').mount, { Type: 'bind', Source: '/h', Destination: '/c', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    const shared = parseBindSpec('/h/:/c/:rw,rshared,Z').mount;
    assert.equal(shared.Source, '/h');
    assert.equal(shared.Destination, '/c');
    assert.equal(shared.Propagation, 'rshared');
    assert.equal(shared.Mode, 'rw,rshared,Z');
    assert.equal(shared.RW, true);
    assert.equal(parseBindSpec('/h:/c:z').mount.Mode, 'z');
    assert.equal(parseBindSpec('/h:/c').mount.SkipCreate, undefined, '-v creates a missing host dir');
  });

  it('names a volume when the source is not absolute', () => {
    const p = parseBindSpec('data:/var/lib/data');
    assert.equal(p.mount.Type, 'volume');
    assert.equal(p.mount.Mode, 'z', 'a local volume without a mode is z, as moby');
    assert.equal(p.mount.Named, true);
    assert.equal(p.mount.CopyData, true);
    assert.deepEqual(p.volume, { name: 'data', driver: 'local', options: null, labels: null });
    const nocopy = parseBindSpec('data:/d:ro,nocopy');
    assert.equal(nocopy.mount.CopyData, false);
    assert.equal(nocopy.mount.RW, false);
    assert.equal(nocopy.mount.Mode, 'ro,nocopy');
    const anon = parseBindSpec('/only');
    assert.equal(anon.mount.Type, 'volume');
    assert.equal(anon.volume?.name, '');
    assert.equal(anon.mount.Named, false);
  });

  it("refuses what moby refuses, in moby's words", () => {
    assert.throws(() => parseBindSpec(':/c'), /invalid volume specification: ':\/c'$/);
    assert.throws(() => parseBindSpec('/c:rw'), /invalid volume specification: '\/c:rw'$/);
    assert.throws(() => parseBindSpec('/a:/b:ro:x'), /invalid volume specification: '\/a:\/b:ro:x'/);
    assert.throws(() => parseBindSpec('/h:/c:bogus'), /invalid mode: bogus$/);
    assert.throws(() => parseBindSpec('/h:/c:ro,rw'), /invalid mode: ro,rw/);
    assert.throws(() => parseBindSpec('/h:rel'), /invalid volume specification: '\/h:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute$/);
    assert.throws(() => parseBindSpec('/h:/'), /invalid mount config for type "bind": invalid specification: destination can't be '\/'/);
    assert.throws(() => parseBindSpec('v:/c:shared'), /invalid mount config for type "volume": field BindOptions must not be specified/);
  });
});

describe('--mount (HostConfig.Mounts)', () => {
  it('parses binds, volumes and tmpfs', () => {
    const b = parseApiMount({ Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } });
    assert.deepEqual(b.mount, { Type: 'bind', Source: '/src', Destination: '/dst', Mode: '', RW: false, Propagation: 'rslave', SkipCreate: true, NonRecursive: true });
    assert.equal(b.mustExist, true);
    assert.equal(parseApiMount({ Type: 'bind', Source: '/s', Target: '/d', BindOptions: { CreateMountpoint: true } }).mustExist, false);
    const v = parseApiMount({ Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } });
    assert.equal(v.mount.CopyData, false);
    assert.equal(v.mount.Mode, 'z');
    assert.deepEqual(v.volume, { name: 'v1', driver: 'local', options: { type: 'tmpfs', device: 'tmpfs' }, labels: { a: 'b' } });
    const t = parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
    assert.equal(t.mount.Tmpfs, 'mode=1770,size=64m');
    assert.equal(t.mount.Source, '');
  });

  it("refuses bad mounts with moby's messages", () => {
    const cases: [unknown, string][] = [
      [{ Type: 'bind', Target: '/d' }, 'invalid mount config for type "bind": field Source must not be empty'],
      [{ Type: 'bind', Source: '/s' }, 'invalid mount config for type "bind": field Target must not be empty'],
      [{ Type: 'bind', Source: 'rel', Target: '/d' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
      [{ Type: 'bind', Source: '/s', Target: '/d', BindOptions: { Propagation: 'sideways' } }, 'invalid mount config for type "bind": invalid propagation mode: sideways'],
      [{ Type: 'bind', Source: '/s', Target: '/d', VolumeOptions: {} }, 'invalid mount config for type "bind": field VolumeOptions must not be specified'],
      [{ Type: 'volume', Target: '/d', ReadOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
      [{ Type: 'volume', Source: 'v', Target: '/d', BindOptions: {} }, 'invalid mount config for type "volume": field BindOptions must not be specified'],
      [{ Type: 'tmpfs', Source: 'x', Target: '/d' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
      [{ Type: 'tmpfs', Target: '/d', TmpfsOptions: { Options: [['uid', '1']] } }, 'invalid mount config for type "tmpfs": invalid option: uid'],
      [{ Type: 'nfs', Target: '/d' }, 'invalid mount config for type "nfs": mount type unknown'],
      [{ Type: 'volume', Target: '/' }, `invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    ];
    for (const [spec, msg] of cases) assert.throws(() => parseApiMount(spec), (err: Error) => err.message === msg, msg);
  });

  it('refuses wrong JSON types as Go would decode them', () => {
    assert.throws(() => parseApiMount('x'), /cannot unmarshal string into Go struct field HostConfig.Mounts of type mount.Mount/);
    assert.throws(() => parseApiMount({ Type: 'bind', Source: 5, Target: '/d' }), /cannot unmarshal number into Go struct field Mount.Source of type string/);
    assert.throws(() => parseApiMount({ Type: 'volume', Target: '/d', VolumeOptions: { Labels: { a: 1 } } }), /Go struct field VolumeOptions.Labels of type map\[string\]string/);
    assert.throws(() => parseApiMount({ Type: 'tmpfs', Target: '/d', TmpfsOptions: { Options: 'exec' } }), /TmpfsOptions.Options of type \[\]\[\]string/);
    assert.throws(() => parseApiMount({ Type: 'tmpfs', Target: '/d', TmpfsOptions: { SizeBytes: '1m' } }), /TmpfsOptions.SizeBytes of type int64/);
  });

  it('writes tmpfs sizes with the largest unit that divides them', () => {
    assert.equal(tmpfsData({ SizeBytes: 2 ** 30 }, false), 'size=1g');
    assert.equal(tmpfsData({ SizeBytes: 3072 }, true), 'ro,size=3k');
    assert.equal(tmpfsData({ SizeBytes: 1000, Options: [['exec']] }, false), 'size=1000,exec');
  });
});

describe('--volumes-from', () => {
  it('takes a container and an optional rw/ro mode', () => {
    assert.deepEqual(parseVolumesFrom('data'), { container: 'data', rw: true });
    assert.deepEqual(parseVolumesFrom('data:ro'), { container: 'data', rw: false });
    assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
    assert.throws(() => parseVolumesFrom('data:rshared'), /invalid mode: rshared/);
    assert.throws(() => parseVolumesFrom('data:nocopy'), /invalid mode: nocopy/);
  });
  it('knows the mode words', () => {
    assert.equal(validMountMode('ro,Z,rshared,nocopy,cached'), true);
    assert.equal(validMountMode('z,Z'), false);
  });
});

describe('volume names, options and create bodies', () => {
  it('keeps names to one safe path component', () => {
    validateVolumeName('my_vol.1-a');
    assert.throws(() => validateVolumeName('a'), /create a: volume name is too short, names should be at least two alphanumeric characters/);
    for (const bad of ['../x', 'a/b', '.hidden', '-x', 'x y']) {
      assert.throws(() => validateVolumeName(bad), /includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/, bad);
    }
  });
  it('validates driver options as the local driver', () => {
    validateDriverOpts('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.throws(() => validateDriverOpts('v', { foo: 'x' }), /create v: invalid option: "foo"/);
    assert.throws(() => validateDriverOpts('v', { type: 'tmpfs' }), /create v: missing required option: "device"/);
    assert.throws(() => validateDriverOpts('v', { o: 'bind', device: '/x' }), /missing required option: "type"/);
  });
  it('decodes POST /volumes/create', () => {
    assert.deepEqual(parseVolumeCreate(undefined), { name: '', driver: '', options: null, labels: null });
    assert.deepEqual(parseVolumeCreate({ Name: 'n', Labels: { a: 'b' } }), { name: 'n', driver: '', options: null, labels: { a: 'b' } });
    assert.throws(() => parseVolumeCreate({ Name: 3 }), /cannot unmarshal number into Go struct field CreateOptions.Name of type string/);
    assert.throws(() => parseVolumeCreate({ Labels: { a: 1 } }), /cannot unmarshal number/);
  });
});

describe('volume filters', () => {
  const vol = (name: string, labels: Record<string, string> | null, options: Record<string, string> | null = null): VolumeRecord => ({
    name,
    driver: 'local',
    labels,
    options,
    created: '2026-01-01T00:00:00Z',
    anonymous: !!labels && 'com.docker.volume.anonymous' in labels,
  });
  const all = [vol('web-data', { app: 'web' }), vol('db', { app: 'db' }), vol('a'.repeat(64), { 'com.docker.volume.anonymous': '' }), vol('tmp', null, { type: 'tmpfs', device: 'tmpfs' })];
  const names = (vs: VolumeRecord[]) => vs.map((v) => v.name);

  it('lists by name (regexp), label, driver and dangling', () => {
    const used = new Set(['db']);
    const refs = (n: string) => (used.has(n) ? 1 : 0);
    assert.deepEqual(names(filterVolumes(all, Filters.of({ name: ['^web'] }), refs)), ['web-data']);
    assert.deepEqual(names(filterVolumes(all, Filters.of({ label: ['app=db'] }), refs)), ['db']);
    assert.deepEqual(names(filterVolumes(all, Filters.of({ dangling: ['false'] }), refs)), ['db']);
    assert.equal(filterVolumes(all, Filters.of({ dangling: ['true'] }), refs).length, 3);
    assert.equal(filterVolumes(all, Filters.of({ driver: ['other'] }), refs).length, 0);
    assert.throws(() => filterVolumes(all, Filters.of({ until: ['1h'] }), refs), /invalid filter 'until'/);
  });

  it('prunes anonymous volumes unless all=true, never ones with driver options', () => {
    assert.deepEqual(names(pruneCandidates(all, Filters.of({}))), ['a'.repeat(64)]);
    assert.deepEqual(names(pruneCandidates(all, Filters.of({ all: ['true'] }))), ['web-data', 'db', 'a'.repeat(64)]);
    assert.deepEqual(names(pruneCandidates(all, Filters.of({ all: ['1'], 'label!': ['app=web'] }))), ['db', 'a'.repeat(64)]);
    assert.throws(() => pruneCandidates(all, Filters.of({ all: ['maybe'] })), /invalid filter 'all'/);
    assert.throws(() => pruneCandidates(all, Filters.of({ dangling: ['true'] })), /invalid filter 'dangling'/);
  });
});
