// A container that nests directories deeper than PATH_MAX (`cd d; mkdir d` in a loop costs it
// nothing) in its rootfs and in a volume: ps -s, diff, commit-free inspection and removal of the
// container and of the volume all still work. Before, node's rm gave up with ENAMETOOLONG (the
// container and the volume could never be removed) and the walks overflowed the call stack.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile } from './harness.js';

// busybox's cd stops once its own path reaches PATH_MAX (2,048 levels of 'd/'): on the host, the
// snapshot's or the volume's prefix takes those paths past it
const DEPTH = 2100;
const MADE = 2048;

describe('trees nested deeper than PATH_MAX', () => {
  const f = daemonForFile();

  test('a container that made one in its rootfs and in a volume: diff, ps -s, rm and volume rm work', async () => {
    const d = f.daemon();
    const name = f.name('deep');
    const vol = f.name('deepvol');
    const script = `for top in /deep /v; do cd $top; i=0; while [ $i -lt ${DEPTH} ]; do mkdir d; cd d; i=$((i+1)); done; echo bottom > f; done; echo made`;
    await d.dockerOk(['run', '--name', name, '-v', `${vol}:/v`, 'busybox', 'sh', '-c', `mkdir /deep && ${script}`], { timeoutMs: 300_000 });
    const diff = await d.dockerOk(['diff', name]);
    const added = diff.split('\n').filter((l) => l.startsWith('A /deep')).length;
    assert.ok(added >= MADE, `every level of the tree is in the diff (${added}: ${diff.slice(0, 200)})`);
    const sizes = await d.dockerOk(['ps', '-a', '-s', '--filter', `name=${name}`, '--format', '{{.Size}}']);
    assert.match(sizes, /B/);
    await d.dockerOk(['rm', name]);
    await d.dockerOk(['volume', 'rm', vol]);
    assert.equal((await d.docker(['inspect', name])).code, 1);
    assert.equal((await d.docker(['volume', 'inspect', vol])).code, 1);
  });
});
