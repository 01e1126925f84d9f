// Copy-up of an image's directory into a new volume: what is copied (owners, modes, links, times),
// when nothing is (a volume with data, a missing source), and that the source is looked up inside
// the container's root: its links never lead to the host's files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chown, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyUp } from '../../src/engine/volumes/copy-up.js';

describe('copy-up', () => {
  let work: string;
  let rootfs: string;
  let n = 0;
  const freshVolume = async () => {
    const v = join(work, `vol${n++}`);
    await mkdir(v);
    return v;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
    rootfs = join(work, 'rootfs');
    await mkdir(join(rootfs, 'data/sub'), { recursive: true });
    await writeFile(join(rootfs, 'data/sub/f'), 'image data');
    await chmod(join(rootfs, 'data/sub/f'), 0o640);
    await chmod(join(rootfs, 'data/sub'), 0o751);
    await symlink('sub/f', join(rootfs, 'data/link'));
    await utimes(join(rootfs, 'data/sub/f'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    if (process.getuid?.() === 0) {
      await chown(join(rootfs, 'data/sub'), 1000, 1001);
      await chown(join(rootfs, 'data/sub/f'), 1000, 1001);
    }
    execFileSync('mkfifo', [join(rootfs, 'data/fifo')]);
    // links that would lead out of the root if followed on the host
    await mkdir(join(rootfs, 'etc'));
    await writeFile(join(rootfs, 'etc/inside'), 'the container\'s /etc');
    await symlink('/etc', join(rootfs, 'abs'));
    await symlink('../../../../../../etc', join(rootfs, 'rel'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('copies files, directories and links with their owners, modes and times; FIFOs are left out', async () => {
    const v = await freshVolume();
    assert.equal(await copyUp(rootfs, '/data', v), true);
    assert.deepEqual((await readdir(v)).sort(), ['link', 'sub']);
    assert.equal(await readFile(join(v, 'sub/f'), 'utf8'), 'image data');
    assert.equal(await readlink(join(v, 'link')), 'sub/f');
    const dir = await stat(join(v, 'sub'));
    const file = await stat(join(v, 'sub/f'));
    assert.equal(dir.mode & 0o7777, 0o751);
    assert.equal(file.mode & 0o7777, 0o640);
    assert.equal(file.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    if (process.getuid?.() === 0) {
      assert.deepEqual([dir.uid, dir.gid, file.uid, file.gid], [1000, 1001, 1000, 1001]);
    }
    assert.equal((await lstat(join(v, 'link'))).isSymbolicLink(), true);
  });

  it('leaves a volume that has data alone, and copies nothing for a missing source', async () => {
    const v = await freshVolume();
    await writeFile(join(v, 'mine'), 'x');
    assert.equal(await copyUp(rootfs, '/data', v), false);
    assert.deepEqual(await readdir(v), ['mine']);
    const empty = await freshVolume();
    assert.equal(await copyUp(rootfs, '/no/such/dir', empty), false);
    assert.deepEqual(await readdir(empty), []);
  });

  it("follows the container's links inside its root, never to the host", async () => {
    for (const via of ['/abs', '/rel']) {
      const v = await freshVolume();
      assert.equal(await copyUp(rootfs, via, v), true);
      assert.deepEqual(await readdir(v), ['inside'], `${via} is the container's /etc`);
    }
  });
});

describe('copy-up of a deep tree', () => {
  it("copies an image's tree nested 1,500 deep with a daemon allowed 1,024 fds (one fd per level and side was EMFILE)", async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-copyup-deep-'));
    try {
      const depth = 1500;
      const rootfs = join(work, 'rootfs');
      const vol = join(work, 'vol');
      await mkdir(join(rootfs, 'data'), { recursive: true });
      await mkdir(vol);
      // relative steps, as an image's layer makes them: the whole path outgrows PATH_MAX
      const cwd = process.cwd();
      try {
        process.chdir(join(rootfs, 'data'));
        for (let i = 0; i < depth; i++) {
          mkdirSync('d');
          process.chdir('d');
        }
        await writeFile('bottom', 'deep');
      } finally {
        process.chdir(cwd);
      }
      const copyUpJs = new URL('../../src/engine/volumes/copy-up.js', import.meta.url).href;
      const script = `const { copyUp } = await import(${JSON.stringify(copyUpJs)}); console.log(await copyUp(${JSON.stringify(rootfs)}, '/data', ${JSON.stringify(vol)}));`;
      const out = execFileSync('prlimit', ['--nofile=1024:1024', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(out.trim(), 'true');
      const found = execFileSync('find', [vol, '-name', 'bottom', '-printf', '%d\n'], { encoding: 'utf8' });
      assert.equal(found.trim(), String(depth + 1));
    } finally {
      execFileSync('rm', ['-rf', '--', work]);
    }
  });
});
