// An image's parent (issue 10, item 2): commits (and build steps) name the image they were made
// from; rmi prunes untagged parents nothing else needs (moby's imageDeleteHelper, --no-prune keeps
// them); `docker images` hides intermediate images unless -a; an image with children cannot be
// deleted, not even with -f.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('image parents', () => {
  const f = daemonForFile();
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  /** busybox -> (commit) untagged middle -> (commit) tagged child; containers removed after. */
  async function chain(tag: string): Promise<{ middle: string; child: string; busybox: string }> {
    const busybox = (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    const c1 = f.name(`${tag}-c1`);
    await d.dockerOk(['run', '--name', c1, 'busybox', 'sh', '-c', 'echo one > /one']);
    const middle = await d.dockerOk(['commit', c1]);
    const c2 = f.name(`${tag}-c2`);
    await d.dockerOk(['run', '--name', c2, middle, 'sh', '-c', 'echo two > /two']);
    const child = await d.dockerOk(['commit', c2, `${tag}:1`]);
    await d.dockerOk(['rm', c1, c2]);
    return { middle, child, busybox };
  }

  test('inspect names the parent; docker images hides the intermediate image unless -a', async () => {
    const { middle, child, busybox } = await chain('parents-list');
    const inspect = JSON.parse(await d.dockerOk(['image', 'inspect', child, middle]));
    assert.equal(inspect[0].Parent, middle);
    assert.equal(inspect[1].Parent, busybox);
    const listed = (await d.dockerOk(['images', '-q', '--no-trunc'])).split('\n');
    assert.ok(listed.includes(child));
    assert.ok(!listed.includes(middle), 'the intermediate image is hidden');
    const all = (await d.dockerOk(['images', '-aq', '--no-trunc'])).split('\n');
    assert.ok(all.includes(middle), '-a shows it');
    const dangling = (await d.dockerOk(['images', '-aq', '--no-trunc', '-f', 'dangling=true'])).split('\n');
    assert.ok(!dangling.includes(middle), 'an image with children is not dangling');
    const api = await d.api('GET', '/images/json?all=1');
    assert.equal(api.json.find((i: any) => i.Id === child).ParentId, middle);
    await d.dockerOk(['rmi', `parents-list:1`]);
  });

  test('an image with children cannot be deleted, not even with -f', async () => {
    const { middle } = await chain('parents-conflict');
    for (const args of [['rmi', middle], ['rmi', '-f', middle]]) {
      const r = await d.docker(args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`conflict: unable to delete ${middle.slice(7, 19)} \\(cannot be forced\\) - image has dependent child images`));
    }
    await d.dockerOk(['rmi', 'parents-conflict:1']);
  });

  test('rmi prunes untagged parents that nothing else needs; --no-prune keeps them; tagged ones stay', async () => {
    const a = await chain('parents-prune');
    const out = await d.dockerOk(['rmi', 'parents-prune:1']);
    assert.match(out, /^Untagged: parents-prune:1$/m);
    assert.match(out, new RegExp(`^Deleted: ${a.child}$`, 'm'));
    assert.match(out, new RegExp(`^Deleted: ${a.middle}$`, 'm'), 'the untagged parent goes too');
    assert.ok(!out.includes(a.busybox), 'a tagged ancestor stays');
    assert.equal((await d.api('GET', `/images/${a.middle}/json`)).status, 404);
    assert.equal((await d.api('GET', '/images/busybox/json')).status, 200);

    const b = await chain('parents-noprune');
    const kept = await d.dockerOk(['rmi', '--no-prune', 'parents-noprune:1']);
    assert.ok(!kept.includes(b.middle), kept);
    assert.equal((await d.api('GET', `/images/${b.middle}/json`)).status, 200, '--no-prune keeps the parent');
    await d.dockerOk(['rmi', b.middle]);

    // a parent a container uses stays, quietly
    const c = await chain('parents-used');
    const user = f.name('parents-used-user');
    await d.dockerOk(['create', '--name', user, c.middle, 'true']);
    const out2 = await d.dockerOk(['rmi', 'parents-used:1']);
    assert.ok(!out2.includes(c.middle), out2);
    assert.equal((await d.api('GET', `/images/${c.middle}/json`)).status, 200);
    await d.dockerOk(['rm', user]);
    await d.dockerOk(['rmi', c.middle]);
  });
});
