// resolveInRoot against hostile trees: links that point at the host's root, climb with '..',
// chain, or loop must all stay inside the container root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../../src/engine/archive/resolve-in-root.js';

test('symlinks and .. are resolved inside the root, never on the host', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-root-'));
  try {
    await mkdir(join(root, 'etc'));
    await mkdir(join(root, 'data/sub'), { recursive: true });
    await writeFile(join(root, 'etc/passwd'), 'container');
    await symlink('/etc', join(root, 'abs'));
    await symlink('../../../../..', join(root, 'data/up'));
    await symlink('/', join(root, 'slash'));
    await symlink('sub', join(root, 'data/rel'));
    await symlink('chain2', join(root, 'chain1'));
    await symlink('/abs/passwd', join(root, 'chain2'));
    await symlink('loop2', join(root, 'loop1'));
    await symlink('loop1', join(root, 'loop2'));
    const r = (p: string, followLast = true) => resolveInRoot(root, p, { followLast });
    assert.equal(await r('/abs/passwd'), join(root, 'etc/passwd'));
    assert.equal(await r('/data/up/etc/passwd'), join(root, 'etc/passwd'));
    assert.equal(await r('/slash/../../etc'), join(root, 'etc'));
    assert.equal(await r('../../../etc/shadow'), join(root, 'etc/shadow'));
    assert.equal(await r('/data/rel/x'), join(root, 'data/sub/x'));
    assert.equal(await r('/chain1'), join(root, 'etc/passwd'));
    assert.equal(await r('/chain1', false), join(root, 'chain1'));
    assert.equal(await r('/'), root);
    await assert.rejects(r('/loop1'), /too many levels of symbolic links/);
    assert.equal(await resolveInRoot(root, '/new/dir/deep', { followLast: true, create: true }), join(root, 'new/dir/deep'));
    assert.equal(await resolveInRoot(root, '/abs/made', { followLast: true, create: true }), join(root, 'etc/made'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
