import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveUser } from '../../src/runtime/user.js';
import { RootDir } from '../../src/util/in-root/root-dir.js';

let tmp: string;
let root: string;
let hostile: string;
let outside: string;

before(() => {
  tmp = mkdtempSync('/tmp/berth-user-');
  root = join(tmp, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwheel:x:10:root,app\napp:x:1000:\nvideo:x:44:app\nstaff:x:50:\n');

  // A host file the hostile image tries to point at.
  outside = join(tmp, 'host-etc');
  mkdirSync(outside);
  writeFileSync(join(outside, 'passwd'), 'evil:x:4242:4242::/:/bin/sh\n');
  writeFileSync(join(outside, 'group'), 'evilgrp:x:4243:\n');

  hostile = join(tmp, 'hostile');
  mkdirSync(join(hostile, 'inner'), { recursive: true });
  // /etc -> an absolute path on the host; /etc/group via ../../.. escape attempts.
  symlinkSync(outside, join(hostile, 'etc'));
  mkdirSync(join(hostile, 'inner', 'etc'));
  writeFileSync(join(hostile, 'inner', 'etc', 'passwd'), 'inside:x:7:7::/:/bin/sh\n');
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('empty user is root with its supplementary groups', async () => {
  assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0, 10] });
});

test('name, uid, name:group, uid:gid', async () => {
  assert.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 44] });
  assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 44] });
  assert.deepEqual(await resolveUser(root, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [50] });
  assert.deepEqual(await resolveUser(root, '4000:4001'), { uid: 4000, gid: 4001, additionalGids: [4001] });
  assert.deepEqual(await resolveUser(root, 'nobody', ['video', '77']), { uid: 65534, gid: 65534, additionalGids: [65534, 44, 77] });
});

test('unknown names fail like Docker', async () => {
  await assert.rejects(resolveUser(root, 'nobody2'), {
    name: 'SystemError',
    message: 'unable to find user nobody2: no matching entries in passwd file',
  });
  await assert.rejects(resolveUser(root, 'app:nogroup2'), {
    message: 'unable to find group nogroup2: no matching entries in group file',
  });
  await assert.rejects(resolveUser(root, 'app', ['missing']), { message: /unable to find group missing/ });
});

test('no passwd file: numeric users work, names do not', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  assert.deepEqual(await resolveUser(empty, '123:456'), { uid: 123, gid: 456, additionalGids: [456] });
  assert.deepEqual(await resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [0] });
  await assert.rejects(resolveUser(empty, 'app'), /no matching entries in passwd file/);
});

test('absolute symlinks resolve inside the rootfs, never on the host', async () => {
  // /etc -> <tmp>/host-etc is read as <hostile>/<tmp>/host-etc, which does not exist.
  await assert.rejects(resolveUser(hostile, 'evil'), /unable to find user evil/);
  assert.deepEqual(await resolveUser(hostile, ''), { uid: 0, gid: 0, additionalGids: [0] });
});

test('relative symlinks cannot climb out of the rootfs', async () => {
  const r = join(tmp, 'climb');
  mkdirSync(r);
  symlinkSync('../../../../../../../../' + outside.slice(1), join(r, 'etc'));
  await assert.rejects(resolveUser(r, 'evil'), /unable to find user evil/);
  // A link that stays inside works.
  const ok = join(tmp, 'ok');
  mkdirSync(join(ok, 'real'), { recursive: true });
  writeFileSync(join(ok, 'real', 'passwd'), 'web:x:33:33::/:/bin/sh\n');
  symlinkSync('/real', join(ok, 'etc'));
  assert.deepEqual(await resolveUser(ok, 'web'), { uid: 33, gid: 33, additionalGids: [33] });
});

async function resolvedPath(host: string, path: string): Promise<string> {
  return RootDir.with(host, async (r) => {
    const at = await r.resolve(path, { followLast: true });
    await at.close();
    return at.path;
  });
}

test('lookups in a root handle .., loops and missing tails', async () => {
  assert.equal(await resolvedPath(root, '/../../etc/passwd'), '/etc/passwd');
  const loop = join(tmp, 'loop');
  mkdirSync(loop);
  symlinkSync('/a', join(loop, 'b'));
  symlinkSync('/b', join(loop, 'a'));
  await assert.rejects(resolvedPath(loop, '/a/x'), /too many levels/);
  await assert.rejects(resolvedPath(root, '/nope/deeper'), /\/nope: no such file/);
  assert.equal(await resolvedPath(root, '/etc/nope'), '/etc/nope');
});

// Review §4: the container owns /etc/passwd; it may be a FIFO, a device or huge.
test('a FIFO as /etc/passwd is refused at once, and the daemon\'s threadpool stays free', async () => {
  const r = join(tmp, 'fifo');
  mkdirSync(join(r, 'etc'), { recursive: true });
  execFileSync('mkfifo', [join(r, 'etc/passwd')]);
  // more lookups than libuv has workers: each used to park one in open(2) forever
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => resolveUser(r, 'app')));
  for (const res of results) {
    assert.equal(res.status, 'rejected');
    assert.match(String((res as PromiseRejectedResult).reason.message), /\/etc\/passwd is not a regular file/);
  }
  assert.ok((await stat('/etc/hostname')).isFile(), 'file operations still run');
});

test('a device node or a directory as /etc/group is refused, not opened', async () => {
  const r = join(tmp, 'dev');
  mkdirSync(join(r, 'etc/passwd'), { recursive: true });
  execFileSync('mknod', [join(r, 'etc/group'), 'c', '1', '5']); // /dev/zero's numbers
  await assert.rejects(resolveUser(r, 'app'), /is not a regular file/);
});

test('a 200 MB /etc/passwd is refused without reading it', async () => {
  const r = join(tmp, 'big');
  mkdirSync(join(r, 'etc'), { recursive: true });
  writeFileSync(join(r, 'etc/passwd'), '');
  truncateSync(join(r, 'etc/passwd'), 200 * 1024 * 1024); // sparse: no disk used
  const before = process.memoryUsage().rss;
  await assert.rejects(resolveUser(r, ''), /\/etc\/passwd is larger than 4194304 bytes/);
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
});
