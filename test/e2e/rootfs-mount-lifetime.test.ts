// A container's rootfs is mounted at start and unmounted at exit, as Docker does (issue 8,
// item 7): `docker create` mounts nothing, so containers that never run hold no mount. What
// reads a created container's files (diff, commit, cp, export, ps -s) still works, and so do rm,
// prune and a daemon restart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { daemonForFile } from './harness.js';
import { isMountPoint } from '../../src/images/layers/snapshotter.js';

describe('rootfs mounted only while the container runs', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  const merged = (id: string) => join(d().dataRoot, 'snapshots', 'containers', id, 'merged');
  const mounted = (id: string): Promise<boolean> => isMountPoint(merged(id));
  const idOf = async (name: string) => (await f.inspect(name)).Id as string;
  /** The unmount follows the exit's die event (as with moby): wait for it. */
  const unmounted = async (id: string) => {
    const deadline = Date.now() + 10_000;
    while (await mounted(id)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  };

  test('create mounts nothing; start mounts; exit unmounts', async () => {
    const name = f.name('mnt-life');
    const id = await d().dockerOk(['create', '--name', name, 'busybox', 'sh', '-c', 'echo hi > /made-here; sleep 0.3']);
    // more creates after it: a mount made after create's answer (as berth once did) has had
    // their time to land on the first ones
    const more: string[] = [];
    for (let i = 0; i < 8; i++) more.push(await d().dockerOk(['create', '--name', f.name(`mnt-life-${i}`), 'busybox', 'true']));
    for (const c of [id, ...more]) assert.equal(await mounted(c), false, 'a created container holds no mount');
    await d().dockerOk(['start', '-a', name]);
    assert.equal(await unmounted(id), true, 'an exited container holds no mount');
    assert.match(await d().dockerOk(['diff', name]), /A \/made-here/);

    const runner = f.name('mnt-running');
    const rid = await d().dockerOk(['run', '-d', '--name', runner, 'busybox', 'sleep', '1000']);
    assert.equal(await mounted(rid), true, 'a running container has its rootfs mounted');
    await d().dockerOk(['stop', '-t', '0', runner]);
    assert.equal(await unmounted(rid), true);
  });

  test('diff, commit, cp, export and ps -s of a never-started container; rm and prune', async () => {
    const name = f.name('mnt-never');
    const id = await d().dockerOk(['create', '--name', name, 'busybox', 'true']);
    assert.equal(await d().dockerOk(['diff', name]), '');
    const image = await d().dockerOk(['commit', name, 'mnt-never-image:1']);
    assert.match(image, /^sha256:/);
    await d().dockerOk(['rmi', 'mnt-never-image:1']);
    const cp = await d().docker(['cp', `${name}:/etc/passwd`, '-']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(cp.stdout, /root:x:0:0/);
    const exported = await d().docker(['export', name]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(exported.stdout.includes('bin/busybox'));
    assert.equal(await mounted(id), false, 'cp and export unmount again');
    const sizes = await d().dockerOk(['ps', '-a', '-s', '--filter', `id=${id}`, '--format', '{{.Size}}']);
    assert.match(sizes, /^0B \(virtual [0-9.]+[kMG]?B\)$/);
    await d().dockerOk(['rm', name]);

    const pruned = f.name('mnt-pruned');
    const pid = await d().dockerOk(['create', '--name', pruned, 'busybox', 'true']);
    assert.match(await d().dockerOk(['container', 'prune', '-f']), new RegExp(pid));
    assert.equal((await d().api('GET', `/containers/${pid}/json`)).status, 404);
  });

  test('a daemon restart leaves created containers unmounted and startable', async () => {
    const name = f.name('mnt-restart');
    await d().dockerOk(['create', '--name', name, 'busybox', 'sh', '-c', 'echo started']);
    const running = f.name('mnt-restart-running');
    await d().dockerOk(['run', '-d', '--name', running, 'busybox', 'sleep', '1000']);
    await d().stop('SIGKILL');
    await d().start();
    assert.equal(await mounted(await idOf(name)), false);
    assert.equal(await mounted(await idOf(running)), true, 'a container that runs on keeps its rootfs');
    assert.equal(await d().dockerOk(['start', '-a', name]), 'started');
    assert.equal(await unmounted(await idOf(name)), true);
  });
});
