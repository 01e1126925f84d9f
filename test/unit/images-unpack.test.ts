// Layer unpacking against crafted tars: nothing may land outside the layer dir, whiteouts
// become overlayfs whiteouts, metadata survives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { tarOf } from '../fixtures/tar-of.js';
import { applyLayer, confinePath } from '../../src/images/layers/unpack.js';
import { LayerSnapshots } from '../../src/images/store/layer-snapshots.js';

type Entry = Partial<tar.Header> & { name: string; body?: string };

let base: string;
let outside: string;

function makeTar(entries: Entry[]): Promise<Buffer> {
  return tarOf(entries.map(({ body, ...h }) => ({ header: { mtime: new Date(0), ...h }, body })));
}

async function freshLayer(): Promise<string> {
  const dir = await mkdtemp(join(base, 'layer-'));
  return dir;
}

async function outsideUntouched(): Promise<void> {
  assert.deepEqual((await readdir(outside)).sort(), ['secret']);
  assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'keep');
  assert.deepEqual((await readdir(base)).filter((n) => !n.startsWith('layer-') && n !== 'outside' && n !== 'snap'), []);
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-unpack-'));
  outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'keep');
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

test('confinePath cleans like a rooted path', () => {
  assert.equal(confinePath('../../etc/passwd'), 'etc/passwd');
  assert.equal(confinePath('/abs/x'), 'abs/x');
  assert.equal(confinePath('./a/./b/../c/'), 'a/c');
  assert.equal(confinePath('./'), '');
  assert.equal(confinePath('..'), '');
});

test('.. and absolute names stay inside the layer', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: '../../outside/secret', body: 'pwned' },
    { name: '../escape', body: 'x' },
    { name: '/etc/abs', body: 'y' },
  ]);
  await applyLayer(Readable.from([t]), dir);
  assert.equal(await readFile(join(dir, 'outside', 'secret'), 'utf8'), 'pwned');
  assert.equal(await readFile(join(dir, 'escape'), 'utf8'), 'x');
  assert.equal(await readFile(join(dir, 'etc', 'abs'), 'utf8'), 'y');
  await outsideUntouched();
});

test('no write follows a symlinked parent out of the layer', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: 'link', type: 'symlink', linkname: outside },
    { name: 'link/secret', body: 'pwned' },
  ]);
  await assert.rejects(applyLayer(Readable.from([t]), dir), /symlink/);
  await outsideUntouched();
  const rel = await makeTar([
    { name: 'up', type: 'symlink', linkname: '../outside' },
    { name: 'up/new', body: 'pwned' },
  ]);
  await assert.rejects(applyLayer(Readable.from([rel]), await freshLayer()), /symlink/);
  await outsideUntouched();
});

test('a file entry replaces a planted symlink instead of writing through it', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: 'f', type: 'symlink', linkname: join(outside, 'secret') },
    { name: 'f', body: 'inside' },
  ]);
  await applyLayer(Readable.from([t]), dir);
  assert.ok((await lstat(join(dir, 'f'))).isFile());
  assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'inside');
  await outsideUntouched();
});

test('hardlinks only to files inside the layer', async () => {
  const toOutside = await makeTar([{ name: 'hl', type: 'link', linkname: '../outside/secret' }]);
  await assert.rejects(applyLayer(Readable.from([toOutside]), await freshLayer()), /not a file inside the layer|does not exist/);
  const viaSymlink = await makeTar([
    { name: 'sl', type: 'symlink', linkname: outside },
    { name: 'hl', type: 'link', linkname: 'sl/secret' },
  ]);
  await assert.rejects(applyLayer(Readable.from([viaSymlink]), await freshLayer()), /symlink/);
  const dir = await freshLayer();
  const ok = await makeTar([
    { name: 'a', body: 'data' },
    { name: 'b', type: 'link', linkname: 'a' },
  ]);
  await applyLayer(Readable.from([ok]), dir);
  assert.equal((await stat(join(dir, 'a'))).ino, (await stat(join(dir, 'b'))).ino);
  assert.equal((await stat(join(outside, 'secret'))).nlink, 1);
  await outsideUntouched();
});

test('device nodes and fifos are skipped', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: 'dev/', type: 'directory', mode: 0o755 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'fifo', type: 'fifo' },
  ]);
  await applyLayer(Readable.from([t]), dir);
  assert.deepEqual(await readdir(join(dir, 'dev')), []);
  await assert.rejects(lstat(join(dir, 'fifo')));
});

test('whiteouts become overlayfs whiteouts and opaque dirs', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/.wh.gone' },
    { name: 'opaque/', type: 'directory', mode: 0o755 },
    { name: 'opaque/.wh..wh..opq' },
    { name: 'opaque/kept', body: 'k' },
    { name: '.wh..wh.plnk' },
  ]);
  await applyLayer(Readable.from([t]), dir);
  const wh = await lstat(join(dir, 'etc', 'gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  await assert.rejects(lstat(join(dir, 'etc', '.wh.gone')));
  const xattr = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'opaque')], { encoding: 'utf8' });
  assert.equal(xattr, 'y');
  assert.deepEqual(await readdir(join(dir, 'opaque')), ['kept']);
  assert.deepEqual((await readdir(dir)).sort(), ['etc', 'opaque']);
});

test('ownership, modes (setuid too), mtimes and the diffID are preserved', async () => {
  const dir = await freshLayer();
  const mtime = new Date('2020-02-02T00:00:00Z');
  const plain = await makeTar([
    { name: 'bin/', type: 'directory', mode: 0o750, uid: 2, gid: 3, mtime },
    { name: 'bin/su', body: '#!', mode: 0o4755, uid: 0, gid: 0, mtime },
    { name: 'home/u/file', body: 'abc', mode: 0o600, uid: 1000, gid: 1000, mtime },
    { name: 'bin/sh', type: 'symlink', linkname: 'su', uid: 5, gid: 6, mtime },
  ]);
  const res = await applyLayer(Readable.from([gzipSync(plain)]), dir);
  assert.equal(res.diffId, `sha256:${createHash('sha256').update(plain).digest('hex')}`);
  assert.equal(res.size, 5);
  const su = await stat(join(dir, 'bin', 'su'));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal(su.mtimeMs, mtime.getTime());
  const f = await stat(join(dir, 'home', 'u', 'file'));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o777], [1000, 1000, 0o600]);
  const bin = await stat(join(dir, 'bin'));
  assert.deepEqual([bin.uid, bin.gid, bin.mode & 0o777, bin.mtimeMs], [2, 3, 0o750, mtime.getTime()]);
  const sh = await lstat(join(dir, 'bin', 'sh'));
  assert.deepEqual([sh.uid, sh.gid], [5, 6]);
  assert.equal(await readlink(join(dir, 'bin', 'sh')), 'su');
});

test('root:root entries the unpack skips chowning are root:root even under a setgid directory, and a directory seen again takes its new owner', async () => {
  const dir = await freshLayer();
  const plain = await makeTar([
    { name: 'shared/', type: 'directory', mode: 0o2775, uid: 0, gid: 50 },
    { name: 'shared/file', body: 'x', mode: 0o644, uid: 0, gid: 0 },
    { name: 'shared/deep/file', body: 'y', mode: 0o644, uid: 0, gid: 0 },
    { name: 'shared/link', type: 'symlink', linkname: 'file', uid: 0, gid: 0 },
    { name: 'plain/file', body: 'z', mode: 0o644, uid: 0, gid: 0 },
    { name: 'd/', type: 'directory', mode: 0o755, uid: 7, gid: 8 },
    { name: 'd/', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
  ]);
  await applyLayer(Readable.from([plain]), dir);
  const owner = async (p: string) => {
    const st = await lstat(join(dir, p));
    return [st.uid, st.gid];
  };
  assert.deepEqual(await owner('shared'), [0, 50]);
  for (const p of ['shared/file', 'shared/deep/file', 'shared/link', 'plain/file', 'd']) assert.deepEqual(await owner(p), [0, 0], p);
});

test('a failed unpack leaves no snapshot dir behind', async () => {
  const snaps = new LayerSnapshots(join(base, 'snap'));
  const bad = await makeTar([
    { name: 'link', type: 'symlink', linkname: '/' },
    { name: 'link/x', body: 'x' },
  ]);
  await assert.rejects(snaps.unpack(Readable.from([bad]), null));
  assert.deepEqual(await readdir(snaps.dir), []);
  const good = await makeTar([{ name: 'a', body: 'a' }]);
  await assert.rejects(snaps.unpack(Readable.from([good]), null, 'sha256:' + '0'.repeat(64)), /does not match/);
  assert.deepEqual(await readdir(snaps.dir), []);
  const ok = await snaps.unpack(Readable.from([good]), null);
  assert.equal(ok.created, true);
  assert.deepEqual(await readdir(snaps.dir), [ok.chainId.slice(7)]);
  const again = await snaps.unpack(Readable.from([good]), null);
  assert.equal(again.created, false);
  await snaps.remove(ok.chainId);
  assert.deepEqual(await readdir(snaps.dir), []);
});

// Review §1: a whiteout whose stripped name is '', '.' or '..' named the layer dir, or the
// dir holding every layer, and `rm -rf`'d it before leaving a 0/0 char device in its place.
async function fakeLayersDir(): Promise<{ layers: string; sibling: string }> {
  const layers = join(await freshLayer(), 'snapshots', 'layers');
  const sibling = join(layers, 'a'.repeat(64));
  await mkdir(sibling, { recursive: true });
  await writeFile(join(sibling, 'precious'), 'x');
  return { layers, sibling };
}

async function layersIntact(layers: string, sibling: string): Promise<void> {
  assert.ok((await lstat(layers)).isDirectory(), 'layers is still a directory');
  assert.equal(await readFile(join(sibling, 'precious'), 'utf8'), 'x', 'the other layer survives');
}

for (const name of ['.wh...', '.wh..', '.wh.', 'a/.wh...', 'a/.wh..', 'a/b/.wh...']) {
  test(`whiteout ${JSON.stringify(name)} is refused and touches nothing outside its dir`, async () => {
    const { layers, sibling } = await fakeLayersDir();
    const tmp = join(layers, '.tmp-1234');
    await mkdir(tmp);
    const t = await makeTar([
      { name: 'a/', type: 'directory' },
      { name: 'a/b/', type: 'directory' },
      { name: 'a/b/keep', body: 'k' },
      { name, body: '' },
      { name: 'after', body: 'y' },
    ]);
    await assert.rejects(applyLayer(Readable.from([t]), tmp), /invalid whiteout name/);
    await layersIntact(layers, sibling);
    assert.ok((await lstat(tmp)).isDirectory(), 'the layer dir itself survives');
    assert.equal(await readFile(join(tmp, 'a', 'b', 'keep'), 'utf8'), 'k');
  });
}

test('a layer with a bad whiteout fails to unpack and leaves no half-made dir', async () => {
  const snaps = new LayerSnapshots(await freshLayer());
  snaps.initSync();
  const sibling = join(snaps.dir, 'b'.repeat(64));
  await mkdir(sibling);
  await writeFile(join(sibling, 'precious'), 'x');
  const t = await makeTar([{ name: 'f', body: 'f' }, { name: '.wh...' }]);
  await assert.rejects(snaps.unpack(Readable.from([t]), null), /invalid whiteout name "\.wh\.\.\."/);
  await layersIntact(snaps.dir, sibling);
  assert.deepEqual(await readdir(snaps.dir), ['b'.repeat(64)]);
  assert.deepEqual(snaps.initSync(), [`sha256:${'b'.repeat(64)}`]);
});

test('meta whiteouts and the opaque marker stay confined to real dirs of the layer', async () => {
  const dir = await freshLayer();
  const t = await makeTar([
    { name: '.wh..wh..opq' },
    { name: '.wh..wh.' },
    { name: 'd/.wh..wh.x' },
    { name: 'd/.wh..wh..opq' },
    { name: 'd/.wh.x.' },
  ]);
  await applyLayer(Readable.from([t]), dir);
  const opaque = (p: string) => execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', p], { encoding: 'utf8' });
  assert.equal(opaque(dir), 'y');
  assert.equal(opaque(join(dir, 'd')), 'y');
  assert.deepEqual(await readdir(join(dir, 'd')), ['x.']);
  assert.ok((await lstat(join(dir, 'd', 'x.'))).isCharacterDevice());
  const viaLink = await makeTar([
    { name: 'l', type: 'symlink', linkname: outside },
    { name: 'l/.wh..wh..opq' },
  ]);
  await assert.rejects(applyLayer(Readable.from([viaLink]), await freshLayer()), /symlink/);
  const viaLinkWh = await makeTar([
    { name: 'l', type: 'symlink', linkname: outside },
    { name: 'l/.wh.secret' },
  ]);
  await assert.rejects(applyLayer(Readable.from([viaLinkWh]), await freshLayer()), /symlink/);
  await outsideUntouched();
});

// Review §12: directory times are set after the last entry; a later entry may have put a
// symlink where the directory was, or above it.
test('deferred directory times never follow a symlink put in place by a later entry', async () => {
  const host = await freshLayer();
  const hostFile = join(host, 'host-file');
  await writeFile(hostFile, 'h');
  const hostDir = join(host, 'host-dir');
  await mkdir(join(hostDir, 'sub'), { recursive: true });
  const before = { file: (await stat(hostFile)).mtimeMs, sub: (await stat(join(hostDir, 'sub'))).mtimeMs };
  const old = new Date('1999-01-01T00:00:00Z');
  const dir = await freshLayer();
  const t = await makeTar([
    { name: 'a/', type: 'directory', mtime: old },
    { name: 'a', type: 'symlink', linkname: hostFile },
    { name: 'b/', type: 'directory', mtime: old },
    { name: 'b/sub/', type: 'directory', mtime: old },
    { name: 'b', type: 'symlink', linkname: hostDir },
  ]);
  await applyLayer(Readable.from([t]), dir);
  assert.equal((await stat(hostFile)).mtimeMs, before.file, 'the host file keeps its mtime');
  assert.equal((await stat(join(hostDir, 'sub'))).mtimeMs, before.sub, 'a host dir reached through a symlinked parent keeps its mtime');
  assert.equal(await readlink(join(dir, 'a')), hostFile);
});

test('a directory replaced by another keeps the times of its last entry', async () => {
  const dir = await freshLayer();
  const first = new Date('1999-01-01T00:00:00Z');
  const last = new Date('2011-01-01T00:00:00Z');
  const t = await makeTar([
    { name: 'd/', type: 'directory', mtime: first },
    { name: 'd', body: 'file now' },
    { name: 'd/', type: 'directory', mtime: last },
  ]);
  await applyLayer(Readable.from([t]), dir);
  assert.equal((await stat(join(dir, 'd'))).mtimeMs, last.getTime());
});

test('an entry the filesystem refuses fails the layer without naming host paths', async () => {
  const dir = await freshLayer();
  const t = await makeTar([{ name: `d/${'x'.repeat(300)}`, body: 'long' }]);
  await assert.rejects(applyLayer(Readable.from([t]), dir), (err: Error) => {
    assert.match(err.message, /failed to unpack layer entry "d\/x+": ENAMETOOLONG/);
    assert.ok(!err.message.includes(base), err.message);
    return true;
  });
});
