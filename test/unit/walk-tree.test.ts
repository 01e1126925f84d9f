// The walk of a tree someone else owns, against trees a container can make: nested deeper than
// any real one, and rearranged while the walk is below what it moved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirSize } from '../../src/images/layers/dir-size.js';
import { RootDir } from '../../src/util/in-root/root-dir.js';
import { MAX_HELD, TreeChangedError, walkTree } from '../../src/util/in-root/walk-tree.js';

const openFds = () => readdirSync('/proc/self/fd').length;

/** `depth` directories `d` inside each other, with `files` empty files at the bottom. */
function chain(top: string, depth: number, files = 0): void {
  // one relative step at a time, as `cd d; mkdir d` in a loop: the whole path soon passes PATH_MAX
  const cwd = process.cwd();
  try {
    process.chdir(top);
    for (let i = 0; i < depth; i++) {
      mkdirSync('d');
      process.chdir('d');
    }
    for (let i = 0; i < files; i++) writeFileSync(`f${i}`, 'x');
  } finally {
    process.chdir(cwd);
  }
}

/** rm -rf: node's rm walks by whole paths, which a tree this deep outgrows. */
const removeTree = (top: string) => execFileSync('rm', ['-rf', '--', top]);

test('walkTree: a tree 3,000 directories deep is walked whole, in linear time, holding a bounded number of fds', async () => {
  const top = await mkdtemp(join(tmpdir(), 'berth-walk-'));
  try {
    chain(top, 3000, 500);
    const before = openFds();
    let most = 0;
    let entries = 0;
    const root = await RootDir.open(top);
    try {
      for await (const e of walkTree(root.fh)) {
        entries++;
        if (e.name === 'f0') most = openFds();
      }
    } finally {
      await root.close();
    }
    assert.equal(entries, 3500);
    assert.ok(most - before <= MAX_HELD + 2, `${most - before} fds held at the bottom`);
    assert.equal(openFds(), before);
    // docker ps -s / system df: a container's deep tree neither overflows nor stalls the count
    assert.equal(await dirSize(top), 500);
  } finally {
    removeTree(top);
  }
});

test('walkTree: below its fd window the walk comes back up to the released levels and goes on in order', async () => {
  const top = await mkdtemp(join(tmpdir(), 'berth-walk-'));
  try {
    // each level: a, d (the next level), z: the z's are reached through reopened levels
    const depth = MAX_HELD * 3;
    let cur = top;
    const expected: string[] = [];
    let rel = '';
    for (let i = 0; i < depth; i++) {
      writeFileSync(join(cur, 'a'), '');
      writeFileSync(join(cur, 'z'), '');
      mkdirSync(join(cur, 'd'));
      expected.push(`${rel}/a`, `${rel}/d`);
      cur = join(cur, 'd');
      rel += '/d';
    }
    let tail = rel;
    const zs: string[] = [];
    for (let i = 0; i < depth; i++) {
      tail = tail.slice(0, -2);
      zs.push(`${tail}/z`);
    }
    const root = await RootDir.open(top);
    const seen: string[] = [];
    try {
      for await (const e of walkTree(root.fh)) seen.push(e.path);
    } finally {
      await root.close();
    }
    assert.deepEqual(seen, [...expected, ...zs]);
  } finally {
    removeTree(top);
  }
});

test('walkTree: a released level moved elsewhere meanwhile stops the walk instead of listing the wrong directory', async () => {
  const top = await mkdtemp(join(tmpdir(), 'berth-walk-'));
  try {
    chain(top, MAX_HELD * 3, 1);
    const root = await RootDir.open(top);
    try {
      await assert.rejects(async () => {
        for await (const e of walkTree(root.fh)) {
          // at the bottom, the container moves level 10 up to the top: level 9 (released) is
          // no longer the parent of what the walk comes back through
          if (e.name === 'f0') renameSync(join(top, ...Array(10).fill('d')), join(top, 'moved'));
        }
      }, TreeChangedError);
    } finally {
      await root.close();
    }
  } finally {
    removeTree(top);
  }
});
