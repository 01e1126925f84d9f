// COPY/ADD plans (src/images/build/copy) on real temp dirs: the tar each case produces (names,
// types, owners, modes, links), where the destination lands in a rootfs, and Docker's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, link, lutimes, mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import { planCopy } from '../../src/images/build/copy/plan-copy.js';
import type { IgnoreMatcher } from '../../src/images/build/types.js';
import { byName, planned, req, scratch } from '../fixtures/copy-plan.js';
import { RootDir } from '../../src/util/in-root/root-dir.js';
import { extractInto } from '../../src/engine/archive/extract-into.js';

/** A context: a.txt (uid 1234, 0640, fixed mtime), dir/{b.txt, sub/c.md, link -> b.txt, hard -> b.txt}. */
async function context(dir: string): Promise<string> {
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'dir/sub'), { recursive: true });
  await writeFile(join(ctx, 'a.txt'), 'alpha');
  await chmod(join(ctx, 'a.txt'), 0o640);
  await chown(join(ctx, 'a.txt'), 1234, 1234);
  await utimes(join(ctx, 'a.txt'), 1_600_000_000, 1_600_000_000);
  await writeFile(join(ctx, 'dir/b.txt'), 'bravo');
  await chmod(join(ctx, 'dir/b.txt'), 0o755);
  await writeFile(join(ctx, 'dir/sub/c.md'), 'charlie');
  await chmod(join(ctx, 'dir/sub'), 0o700);
  await symlink('b.txt', join(ctx, 'dir/link'));
  await link(join(ctx, 'dir/b.txt'), join(ctx, 'dir/hard'));
  await chown(join(ctx, 'dir'), 1234, 1234);
  return ctx;
}

test('a file: kept mode and mtime, owned by root (not the context user), parents made 0755', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    const e = await planned(req(ctx, ['a.txt'], '/app/'));
    assert.deepEqual(e.map((x) => [x.name, x.type, x.mode.toString(8), x.uid, x.gid]), [
      ['app/', 'directory', '755', 0, 0],
      ['app/a.txt', 'file', '640', 0, 0],
    ]);
    assert.equal(e[1]!.body, 'alpha');
    assert.equal(e[1]!.mtime, 1_600_000_000);
    // a dest without a slash names the file; a relative one is under WORKDIR
    const f = await planned(req(ctx, ['./a.txt'], 'renamed', { workdir: '/srv/www' }));
    assert.deepEqual(f.map((x) => x.name), ['srv/', 'srv/www/', 'srv/www/renamed']);
  }));

test('a directory copies its contents: symlinks as symlinks, hard links linked, modes kept', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    const e = byName(await planned(req(ctx, ['dir'], '/opt/x')));
    assert.deepEqual([...e.keys()], ['opt/', 'opt/x/', 'opt/x/b.txt', 'opt/x/hard', 'opt/x/link', 'opt/x/sub/', 'opt/x/sub/c.md']);
    assert.equal(e.get('opt/x/link')!.type, 'symlink');
    assert.equal(e.get('opt/x/link')!.linkname, 'b.txt');
    assert.equal(e.get('opt/x/hard')!.type, 'link');
    assert.equal(e.get('opt/x/hard')!.linkname, 'opt/x/b.txt');
    assert.equal(e.get('opt/x/b.txt')!.mode, 0o755);
    assert.equal(e.get('opt/x/sub/')!.mode, 0o700);
    assert.ok([...e.values()].every((x) => x.uid === 0 && x.gid === 0));
    // the context root itself: everything in it
    const all = await planned(req(ctx, ['.'], '/'));
    assert.deepEqual(all.map((x) => x.name).slice(0, 3), ['a.txt', 'dir/', 'dir/b.txt']);
  }));

test('--chown: every copied entry and the directories a file copy makes; a directory copy makes its parents as root', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    const chown = { uid: 1000, gid: 2000 };
    const f = await planned(req(ctx, ['a.txt'], '/new/deep/', { chown }));
    assert.deepEqual(f.map((x) => [x.name, x.uid, x.gid]), [['new/', 1000, 2000], ['new/deep/', 1000, 2000], ['new/deep/a.txt', 1000, 2000]]);
    const d = await planned(req(ctx, ['dir'], '/top/app', { chown }));
    assert.deepEqual(d.slice(0, 2).map((x) => [x.name, x.uid, x.mode.toString(8)]), [['top/', 0, '755'], ['top/app/', 1000, '755']]);
    assert.ok(d.slice(2).every((x) => x.uid === 1000 && x.gid === 2000));
    // --chmod (BuildKit's meaning) on files and directories, never on symlinks
    const m = byName(await planned(req(ctx, ['dir'], '/m', { chmod: 0o600 })));
    assert.equal(m.get('m/b.txt')!.mode, 0o600);
    assert.equal(m.get('m/sub/')!.mode, 0o600);
    assert.equal(m.get('m/link')!.mode & 0o777, 0o777);
  }));

test('the destination is looked up in the rootfs: existing dirs, symlinks on the way, existing dest keeps its owner', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'opt/app'), { recursive: true });
    await mkdir(join(rootfs, 'tmp'));
    await symlink('/opt', join(rootfs, 'link'));
    await symlink('../opt/app', join(rootfs, 'rel'));
    await symlink('/etc', join(rootfs, 'abs'));
    // an existing directory without a trailing slash takes the file in
    assert.deepEqual((await planned(req(ctx, ['a.txt'], '/tmp'), rootfs)).map((x) => x.name), ['tmp/a.txt']);
    // through symlinks, inside the rootfs (never the host's /etc)
    assert.deepEqual((await planned(req(ctx, ['a.txt'], '/link/'), rootfs)).map((x) => x.name), ['opt/a.txt']);
    assert.deepEqual((await planned(req(ctx, ['a.txt'], '/rel/f'), rootfs)).map((x) => x.name), ['opt/app/f']);
    // a link to a missing directory: MkdirAll makes it where the link leads
    assert.deepEqual((await planned(req(ctx, ['a.txt'], '/abs/passwd'), rootfs)).map((x) => x.name), ['etc/', 'etc/passwd']);
    // a directory into an existing one: no entry for it (its owner and mode stay)
    const d = await planned(req(ctx, ['dir'], '/opt/app', { chown: { uid: 5, gid: 5 } }), rootfs);
    assert.equal(d[0]!.name, 'opt/app/b.txt');
    await writeFile(join(rootfs, 'file'), '');
    await assert.rejects(planned(req(ctx, ['dir'], '/file'), rootfs), /cannot copy to non-directory: \/file/);
    await assert.rejects(planned(req(ctx, ['a.txt'], '/file/x'), rootfs), /mkdir \/file: not a directory/);
  }));

test('globs match per path element as Go filepath.Match; several sources need a dest ending in /', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    await writeFile(join(ctx, 'b.txt'), 'b');
    await writeFile(join(ctx, 'weird*name'), 'w');
    const names = async (sources: string[], dest = '/d/') => (await planned(req(ctx, sources, dest))).map((x) => x.name);
    assert.deepEqual(await names(['*.txt']), ['d/', 'd/a.txt', 'd/b.txt']);
    assert.deepEqual(await names(['[ab].txt']), ['d/', 'd/a.txt', 'd/b.txt']);
    assert.deepEqual(await names(['?.txt', 'dir/sub/*.md']), ['d/', 'd/a.txt', 'd/b.txt', 'd/c.md']);
    // an escaped star is no wildcard, and Linux paths take the backslash literally (as Docker's do)
    assert.deepEqual(await names(['weird[*]name']), ['d/', 'd/weird*name']);
    await assert.rejects(names(['weird\\*name']), /stat weird\\\*name: file does not exist/);
    assert.deepEqual(await names(['d*']), ['d/', 'd/b.txt', 'd/hard', 'd/link', 'd/sub/', 'd/sub/c.md']);
    await assert.rejects(names(['*.none']), { message: 'COPY failed: no source files were specified' });
    await assert.rejects(names(['*.txt'], '/d'), { message: 'When using COPY with more than one source file, the destination must be a directory and end with a /' });
    await assert.rejects(names(['a.txt', 'b.txt'], '/d'), /must be a directory and end with a \//);
  }));

test("Docker's errors: a missing source, '..' out of the context, a URL for COPY", () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    await assert.rejects(planned(req(ctx, ['missing.txt'], '/')), {
      name: 'NotFoundError',
      message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist',
    });
    await assert.rejects(planned(req(ctx, ['../x'], '/')), { message: 'COPY failed: forbidden path outside the build context: ../x ()' });
    await assert.rejects(planned(req(ctx, ['dir/../../ctx/a.txt'], '/')), /forbidden path outside the build context: dir\/..\/..\/ctx\/a.txt/);
    // '..' that stays inside is fine
    assert.equal((await planned(req(ctx, ['dir/../a.txt'], '/x')))[0]!.body, 'alpha');
    await assert.rejects(planned(req(ctx, ['http://127.0.0.1:1/x'], '/')), { message: "COPY failed: source can't be a URL for COPY" });
    await assert.rejects(planned(req(ctx, ['nope'], '/', { from: 'builder' })), { message: 'COPY failed: stat nope: file does not exist' });
  }));

test('hostile contexts: symlinks out of the context resolve inside it, fifos and device nodes are never opened', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    await writeFile(join(dir, 'host-secret'), 'host');
    await symlink('/etc/passwd', join(ctx, 'abs'));
    await symlink('../host-secret', join(ctx, 'up'));
    await symlink('../../../../../../../etc', join(ctx, 'etcdir'));
    for (const s of ['abs', 'up', 'etcdir/passwd', 'etcdir/']) {
      await assert.rejects(planned(req(ctx, [s], '/x')), /file not found in build context/, s);
    }
    // a link that resolves (in scope) to a file of the context copies that file under its own name
    await symlink('/dir/b.txt', join(ctx, 'inscope'));
    const e = await planned(req(ctx, ['inscope'], '/'));
    assert.deepEqual(e.map((x) => [x.name, x.type, x.body]), [['inscope', 'file', 'bravo']]);
    // inside a copied directory a link stays a link, whatever it points at
    await symlink('/etc/shadow', join(ctx, 'dir/abs'));
    const d = byName(await planned(req(ctx, ['dir'], '/d')));
    assert.equal(d.get('d/abs')!.linkname, '/etc/shadow');
    // special files: headers only (a fifo opened for reading would hang the daemon)
    execFileSync('mkfifo', [join(ctx, 'dir/fifo')]);
    execFileSync('mknod', [join(ctx, 'dir/null'), 'c', '1', '3']);
    const s = byName(await planned(req(ctx, ['dir'], '/d')));
    assert.equal(s.get('d/fifo')!.type, 'fifo');
    assert.equal(s.get('d/null')!.type, 'character-device');
    const fifo = await planned(req(ctx, ['dir/fifo'], '/f'));
    assert.deepEqual(fifo.map((x) => [x.name, x.type]), [['f', 'fifo']]);
  }));

test('a 200 MB file is streamed: hashed and tarred without being held in memory', () =>
  scratch(async (dir) => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    const size = 200 * 1024 * 1024;
    execFileSync('truncate', ['-s', String(size), join(ctx, 'big')]);
    const before = process.memoryUsage().rss;
    const plan = await planCopy(req(ctx, ['big'], '/big'));
    const stream = await plan.tar();
    const extract = tar.extract();
    stream.pipe(extract);
    let got = 0;
    let peak = 0;
    for await (const e of extract) {
      for await (const c of e) {
        got += (c as Buffer).length;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    assert.equal(got, size);
    assert.ok(peak - before < 100 * 1024 * 1024, `rss grew by ${Math.round((peak - before) / 1048576)} MB`);
  }));

/** .dockerignore: '*.log' and 'secret' out, 'logs/keep.log' back in. */
const ignore: IgnoreMatcher = {
  ignores: (p) => (p.endsWith('.log') && p !== 'logs/keep.log') || p === 'secret' || p.startsWith('secret/') || p === 'logs',
  mayIncludeUnder: (p) => p === 'logs',
};

test('.dockerignore: ignored files are absent, exceptions inside an excluded dir come back with their dir', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    await mkdir(join(ctx, 'secret'));
    await writeFile(join(ctx, 'secret/key'), 'k');
    await mkdir(join(ctx, 'logs'));
    await writeFile(join(ctx, 'logs/keep.log'), 'kept');
    await writeFile(join(ctx, 'logs/drop.log'), 'dropped');
    await writeFile(join(ctx, 'x.log'), 'x');
    const names = (await planned(req(ctx, ['.'], '/c', { ignore }))).map((x) => x.name);
    assert.ok(names.includes('c/logs/') && names.includes('c/logs/keep.log'), names.join(' '));
    assert.ok(!names.some((n) => n.includes('secret') || n.endsWith('drop.log') || n === 'c/x.log'), names.join(' '));
    await assert.rejects(planned(req(ctx, ['secret/key'], '/', { ignore })), /excluded by .dockerignore: stat secret\/key/);
    // the excluded dir itself is in the context (holding only its exceptions), by name or by glob
    assert.deepEqual((await planned(req(ctx, ['logs'], '/l', { ignore }))).map((x) => x.name), ['l/', 'l/keep.log']);
    assert.deepEqual((await planned(req(ctx, ['l*'], '/g/', { ignore }))).map((x) => x.name), ['g/', 'g/keep.log']);
    await assert.rejects(planned(req(ctx, ['logs/drop.log'], '/', { ignore })), /file not found in build context/);
    await assert.rejects(planned(req(ctx, ['*.log'], '/d/', { ignore })), /no source files were specified/);
  }));

test('the checksum: stable, changes with content, mode, owner and name, never with mtime or an ignored file', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    await writeFile(join(ctx, 'x.log'), 'x');
    const sum = async (sources: string[], dest = '/d/') => (await planCopy(req(ctx, sources, dest, { ignore }))).checksum;
    const file = await sum(['a.txt']);
    const tree = await sum(['.']);
    assert.match(file, /^file:[0-9a-f]{64}$/);
    assert.match(tree, /^dir:[0-9a-f]{64}$/);
    assert.match(await sum(['a.txt', 'dir']), /^multi:[0-9a-f]{64}$/);
    assert.equal(await sum(['a.txt']), file);
    assert.equal(await sum(['.']), tree);
    await utimes(join(ctx, 'dir/sub/c.md'), 1, 1);
    await writeFile(join(ctx, 'x.log'), 'changed');
    await mkdir(join(ctx, 'y.log'));
    assert.equal(await sum(['.']), tree, 'mtime and ignored files do not count');
    await writeFile(join(ctx, 'dir/sub/c.md'), 'CHARLIE');
    const t2 = await sum(['.']);
    assert.notEqual(t2, tree);
    await chmod(join(ctx, 'dir/sub/c.md'), 0o600);
    const t3 = await sum(['.']);
    assert.notEqual(t3, t2);
    await chown(join(ctx, 'dir/sub/c.md'), 7, 7);
    const t4 = await sum(['.']);
    assert.notEqual(t4, t3);
    await writeFile(join(ctx, 'dir/new'), '');
    assert.notEqual(await sum(['.']), t4);
    await writeFile(join(ctx, 'a.txt'), 'ALPHA');
    assert.notEqual(await sum(['a.txt']), file);
    const plan = await planCopy(req(ctx, ['a.txt'], 'rel/', { shell: ['/bin/bash', '-c'] }));
    assert.equal(plan.comment, `COPY ${plan.checksum} in rel/ `);
    assert.equal(plan.createdBy, `/bin/bash -c #(nop) COPY ${plan.checksum} in rel/ `);
    const owned = await planCopy(req(ctx, ['a.txt'], '/o/', { chown: { uid: 1, gid: 2 }, chownFlag: 'daemon:2' }));
    assert.equal(owned.createdBy, `/bin/sh -c #(nop) COPY --chown=daemon:2${owned.checksum} in /o/ `);
    const add = await planCopy({ ...req(ctx, ['a.txt'], '/'), isAdd: true });
    assert.equal(add.createdBy, `/bin/sh -c #(nop) ADD ${add.checksum} in / `);
  }));

test('--from: a rootfs whose absolute symlinks name host paths resolves them inside the rootfs', () =>
  scratch(async (dir) => {
    const rootfs = join(dir, 'stage');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await mkdir(join(rootfs, 'app'));
    await writeFile(join(rootfs, 'etc/hostname'), 'stage-host');
    await symlink('/etc/hostname', join(rootfs, 'app/name'));
    await symlink('/etc/shadow', join(rootfs, 'app/host-shadow'));
    await symlink('/', join(rootfs, 'app/root'));
    const e = await planned(req(rootfs, ['/app/name'], '/out', { from: 'stage' }));
    assert.deepEqual(e.map((x) => [x.name, x.body]), [['out', 'stage-host']]);
    await assert.rejects(planned(req(rootfs, ['/app/host-shadow'], '/out', { from: 'stage' })), { message: 'COPY failed: stat app/host-shadow: file does not exist' });
    // without --chown, --from keeps the stage's owners (moby's preserveOwnership); made dirs are root's
    await chown(join(rootfs, 'etc/hostname'), 5, 6);
    const kept = await planned(req(rootfs, ['/etc/hostname'], '/n/m/', { from: 'stage' }));
    assert.deepEqual(kept.map((x) => [x.name, x.uid, x.gid]), [['n/', 0, 0], ['n/m/', 0, 0], ['n/m/hostname', 5, 6]]);
    const given = await planned(req(rootfs, ['/etc/hostname'], '/n/m/', { from: 'stage', chown: { uid: 7, gid: 8 } }));
    assert.deepEqual(given.map((x) => [x.name, x.uid, x.gid]), [['n/', 7, 8], ['n/m/', 7, 8], ['n/m/hostname', 7, 8]]);
    // the rootfs' own root through a link: its files, never the host's
    const r = (await planned(req(rootfs, ['app/root/etc'], '/o', { from: 'stage' }))).map((x) => [x.name, x.body]);
    assert.deepEqual(r, [['o/', ''], ['o/hostname', 'stage-host']]);
  }));

test('the tar extracts into a rootfs through the engine extractor with the owners, modes and links planned', () =>
  scratch(async (dir) => {
    const ctx = await context(dir);
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'usr/bin'), { recursive: true });
    await symlink('usr/bin', join(rootfs, 'bin'));
    const plan = await planCopy(req(ctx, ['dir'], '/bin/tools', { chown: { uid: 1000, gid: 1000 } }));
    await RootDir.with(rootfs, async (root) => extractInto(root, '/', await plan.tar(root), { noOverwriteDirNonDir: false }));
    const b = await stat(join(rootfs, 'usr/bin/tools/b.txt'));
    assert.equal(b.uid, 1000);
    assert.equal(b.mode & 0o777, 0o755);
    assert.equal(b.nlink, 2);
    assert.equal((await stat(join(rootfs, 'usr/bin/tools'))).uid, 1000);
    assert.equal((await stat(join(rootfs, 'usr/bin'))).uid, 0);
    await lutimes(join(rootfs, 'usr/bin/tools/link'), 0, 0); // a link, not followed
  }));
