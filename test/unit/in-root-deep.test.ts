// Lookups inside a root someone else owns, through trees nested deeper than the daemon has fds:
// a container's /etc/passwd may be a symlink into such a tree, and berth reads it at every
// `docker exec -u name`, every start with a user name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_HELD_LEVELS, RootDir } from '../../src/util/in-root/root-dir.js';

/** `depth` directories `d` inside each other under `top`, made one relative step at a time. */
function chain(top: string, depth: number, bottomFile: string): void {
  const cwd = process.cwd();
  try {
    process.chdir(top);
    for (let i = 0; i < depth; i++) {
      mkdirSync('d');
      process.chdir('d');
    }
    writeFileSync(bottomFile, 'root:x:0:0::/root:/bin/sh\nfar:x:4242:4242::/:/bin/sh\n');
  } finally {
    process.chdir(cwd);
  }
}

test("a container's /etc/passwd linked 1,500 directories deep resolves with a daemon allowed 1,024 fds (one fd per level was EMFILE)", async () => {
  const rootfs = await mkdtemp(join(tmpdir(), 'berth-inroot-deep-'));
  try {
    chain(rootfs, 1500, 'passwd');
    mkdirSync(join(rootfs, 'etc'));
    // relative, down and back up again: `..` climbs through levels the lookup let go of
    symlinkSync(`../${'d/'.repeat(1500)}../d/passwd`, join(rootfs, 'etc/passwd'));
    const userJs = new URL('../../src/runtime/user.js', import.meta.url).href;
    const script = `const { resolveUser } = await import(${JSON.stringify(userJs)}); console.log(JSON.stringify(await resolveUser(${JSON.stringify(rootfs)}, 'far')));`;
    const out = execFileSync('prlimit', ['--nofile=1024:1024', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { uid: 4242, gid: 4242, additionalGids: [4242] });
  } finally {
    execFileSync('rm', ['-rf', '--', rootfs]);
  }
});

test('`..` climbs back through the levels a lookup let go of, to where it came from', async () => {
  const rootfs = await mkdtemp(join(tmpdir(), 'berth-inroot-deep-'));
  try {
    const depth = MAX_HELD_LEVELS * 3;
    chain(rootfs, depth, 'f');
    writeFileSync(join(rootfs, 'marker'), 'top');
    const root = await RootDir.open(rootfs);
    try {
      const at = await root.resolve(`/${'d/'.repeat(depth)}${'../'.repeat(depth)}marker`, { followLast: true });
      assert.equal(at.path, '/marker');
      await at.close();
      const deep = await root.resolve(`/${'d/'.repeat(depth)}${'../'.repeat(depth - 1)}f`, { followLast: true });
      assert.equal(deep.path, '/d/f');
      await deep.close();
      // one too many `..` stops at the root, as in the kernel
      const over = await root.resolve(`/${'d/'.repeat(depth)}${'../'.repeat(depth + 5)}marker`, { followLast: true });
      assert.equal(over.path, '/marker');
      await over.close();
    } finally {
      await root.close();
    }
  } finally {
    execFileSync('rm', ['-rf', '--', rootfs]);
  }
});

test('a tree deeper than PATH_MAX is removed (node rm: ENAMETOOLONG) with a daemon allowed 1,024 fds (one fd per level: EMFILE)', async () => {
  const work = await mkdtemp(join(tmpdir(), 'berth-inroot-deep-'));
  try {
    const top = join(work, 'snapshot');
    mkdirSync(top);
    chain(top, 3000, 'f');
    const dirOpsJs = new URL('../../src/util/in-root/dir-ops.js', import.meta.url).href;
    const script = `const { removeTree } = await import(${JSON.stringify(dirOpsJs)}); await removeTree(${JSON.stringify(top)}); console.log('removed');`;
    const out = execFileSync('prlimit', ['--nofile=1024:1024', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'removed');
    assert.deepEqual(readdirSync(work), []);
  } finally {
    execFileSync('rm', ['-rf', '--', work]);
  }
});
