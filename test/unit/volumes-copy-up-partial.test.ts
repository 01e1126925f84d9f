// A copy-up cut short (the daemon killed mid-copy) must not leave a volume with half the image's
// tree for good: its partial mark makes the next copy-up start over, and a finished copy removes
// the mark. Without a mark a volume with content is never copied into (moby's rule).
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyUp } from '../../src/engine/volumes/copy-up.js';

describe('copy-up cut short', () => {
  let work: string;
  let rootfs: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-copyup-partial-'));
    rootfs = join(work, 'rootfs');
    await mkdir(join(rootfs, 'etc', 'sub'), { recursive: true });
    for (const f of ['a', 'b', 'c']) await writeFile(join(rootfs, 'etc', f), `image ${f}`);
    await writeFile(join(rootfs, 'etc', 'sub', 'd'), 'image d');
  });
  after(() => rm(work, { recursive: true, force: true }));

  const volume = async (name: string, partial: boolean) => {
    const data = join(work, name, '_data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'a'), 'image a');
    await writeFile(join(data, 'b'), 'half');
    const mark = join(work, name, '.copy-up-partial');
    if (partial) await writeFile(mark, '');
    return { data, mark };
  };

  it('starts over from an empty volume when the mark of an unfinished copy is there', async () => {
    const v = await volume('cut', true);
    assert.equal(await copyUp(rootfs, '/etc', v.data, v.mark), true);
    assert.deepEqual((await readdir(v.data)).sort(), ['a', 'b', 'c', 'sub']);
    assert.equal(await readFile(join(v.data, 'b'), 'utf8'), 'image b');
    assert.equal(await readFile(join(v.data, 'sub', 'd'), 'utf8'), 'image d');
    await assert.rejects(access(v.mark), 'a finished copy removes its mark');
  });

  it('leaves a volume with content and no mark alone', async () => {
    const v = await volume('kept', false);
    assert.equal(await copyUp(rootfs, '/etc', v.data, v.mark), false);
    assert.deepEqual((await readdir(v.data)).sort(), ['a', 'b']);
    assert.equal(await readFile(join(v.data, 'b'), 'utf8'), 'half');
  });
});
