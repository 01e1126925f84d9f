// Volumes when things go wrong (issue 9 items 5, 6): a driver-option volume stays mounted for
// its running container across a SIGKILL of the daemon and is unmounted when that container
// exits, also when it exits while the daemon is down; docker cp into a volume is served from the
// volume and a container's links in it never reach the host; the leak check finds no volume
// mount left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, leakCheck, type Daemon } from './harness.js';
import { checkCanaryAndRemove, makeCanary } from '../fixtures/canary.js';
import { isMountPoint } from '../../src/images/layers/snapshotter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('volumes under faults', () => {
  const f = daemonForFile();
  const { name } = f;
  let d: Daemon;
  let work: string;
  let canary: string;

  before(async () => {
    d = f.daemon();
    ({ work, canary } = await makeCanary('berth-volf-'));
  });
  after(async () => {
    await checkCanaryAndRemove({ work, canary });
  });

  const until = async (what: string, pred: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await pred()) return;
      await sleep(100);
    }
    throw new Error(`${what}: not reached`);
  };

  test('a tmpfs volume stays mounted across a SIGKILL of the daemon and goes with its container, also when it exits while the daemon is down', async () => {
    await d.dockerOk(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'restart-tmp']);
    const data = join(d.dataRoot, 'volumes/restart-tmp/_data');
    const a = name('vr-a');
    const b = name('vr-b');
    await d.dockerOk(['run', '-d', '--name', a, '-v', 'restart-tmp:/t', 'busybox', 'sh', '-c', 'echo a > /t/a; exec sleep 1000']);
    await d.dockerOk(['run', '-d', '--name', b, '-v', 'restart-tmp:/t', 'busybox', 'sleep', '1000']);
    await d.stop('SIGKILL');
    await d.start();
    assert.equal(await isMountPoint(data), true, 'still mounted for the running containers');
    assert.equal(await d.dockerOk(['exec', b, 'cat', '/t/a']), 'a');
    await d.dockerOk(['stop', '-t', '0', a]);
    assert.equal(await isMountPoint(data), true, 'b still uses it');

    // b exits while the daemon is down: the next daemon unmounts the volume
    const pid = (await f.inspect(b)).State.Pid as number;
    await d.stop('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await until('b gone', async () => !(await readFile(`/proc/${pid}/stat`, 'utf8').then(() => true, () => false)));
    await d.start();
    await until('b recorded exited', async () => (await f.inspect(b)).State.Status === 'exited');
    assert.equal(await isMountPoint(data), false);
    const leaks = await leakCheck(d.dataRoot, d.execRoot);
    assert.deepEqual(leaks.volumeMounts, []);
    await d.dockerOk(['rm', a, b]);
    await d.dockerOk(['volume', 'rm', 'restart-tmp']);
  });

  test('a start that fails leaves no volume mounted, and --rm takes its anonymous volumes', async () => {
    await d.dockerOk(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'failing-tmp']);
    const data = join(d.dataRoot, 'volumes/failing-tmp/_data');
    const c = name('vfail');
    const r = await d.docker(['run', '--name', c, '-v', 'failing-tmp:/t', 'busybox', '/no/such/binary']);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(await isMountPoint(data), false);
    const anonBefore = await d.dockerOk(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous']);
    const rm1 = await d.docker(['run', '--rm', '-v', '/anon', 'busybox', '/no/such/binary']);
    assert.equal(rm1.code, 127);
    assert.equal(await d.dockerOk(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous']), anonBefore);
    await d.dockerOk(['rm', c]);
    await d.dockerOk(['volume', 'rm', 'failing-tmp']);
  });

  test("docker cp into a volume writes into the volume; the container's links there stay inside it", async () => {
    const c = name('vcp');
    await d.dockerOk(['run', '-d', '--name', c, '-v', 'cpvol:/data', 'busybox', 'sh', '-c',
      `ln -s ${canary} /data/abs; ln -s ../../../../../../..${canary} /data/rel; mkdir -p ${canary}; exec sleep 1000`]);
    await until('links made', async () => (await d.docker(['exec', c, 'test', '-L', '/data/rel'])).code === 0);
    const src = join(work, 'payload');
    await writeFile(src, 'payload\n');
    await d.dockerOk(['cp', src, `${c}:/data/`]);
    assert.equal(await readFile(join(d.dataRoot, 'volumes/cpvol/_data/payload'), 'utf8'), 'payload\n');
    // through the links: they resolve in the container, where the canary path is an empty dir of its own
    await d.dockerOk(['cp', src, `${c}:/data/abs/`]);
    await d.dockerOk(['cp', src, `${c}:/data/rel/`]);
    assert.equal(await d.dockerOk(['exec', c, 'ls', canary]), 'payload');
    await d.dockerOk(['cp', `${c}:/data/payload`, join(work, 'back')]);
    assert.equal(await readFile(join(work, 'back'), 'utf8'), 'payload\n');
    // a stopped container: served from the volume as well
    await d.dockerOk(['stop', '-t', '0', c]);
    await writeFile(src, 'stopped\n');
    await d.dockerOk(['cp', src, `${c}:/data/second`]);
    assert.equal(await readFile(join(d.dataRoot, 'volumes/cpvol/_data/second'), 'utf8'), 'stopped\n');
    await d.dockerOk(['rm', c]);
    await d.dockerOk(['volume', 'rm', 'cpvol']);
  });

  test('docker cp on a stopped container mounts its driver-option volumes for the copy, and unmounts them after', async () => {
    const host = join(work, 'cp-dev');
    await mkdir(host);
    await d.dockerOk(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'cp-bind']);
    const c = name('vcp-stopped');
    await d.dockerOk(['create', '--name', c, '-v', 'cp-bind:/b', 'busybox']);
    const src = join(work, 'to-bind');
    await writeFile(src, 'through the volume\n');
    await d.dockerOk(['cp', src, `${c}:/b/`]);
    assert.equal(await readFile(join(host, 'to-bind'), 'utf8'), 'through the volume\n');
    await d.dockerOk(['cp', `${c}:/b/to-bind`, join(work, 'from-bind')]);
    assert.equal(await readFile(join(work, 'from-bind'), 'utf8'), 'through the volume\n');
    // the tar's end reaches the client before the daemon lets go of the volume
    await until('unmounted after the copy', async () => !(await isMountPoint(join(d.dataRoot, 'volumes/cp-bind/_data'))));
    await d.dockerOk(['rm', c]);
    await d.dockerOk(['volume', 'rm', 'cp-bind']);
  });

  test('copy-up into a volume whose links a running container keeps swapping never writes on the host', async () => {
    // the image has /data/sub/f; a running container keeps the shared volume holding a link
    // to the host canary where copy-up would write
    const src = name('vhost-src');
    await d.dockerOk(['run', '--name', src, 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo image > /data/sub/f']);
    await d.dockerOk(['commit', '--change', 'VOLUME /data', src, 'volhostile']);
    await d.dockerOk(['rm', src]);
    const swapper = name('vhost-swap');
    await d.dockerOk(['run', '-d', '--name', swapper, '-v', 'race:/v', 'busybox', 'sh', '-c',
      `while true; do rm -rf /v/sub 2>/dev/null; ln -s ${canary} /v/sub 2>/dev/null; rm -f /v/sub; done`]);
    for (let i = 0; i < 10; i++) {
      await d.docker(['run', '--rm', '-v', 'race:/data', 'volhostile', 'true']);
      await d.dockerOk(['exec', swapper, 'sh', '-c', 'rm -rf /v/* /v/.[!.]* 2>/dev/null; true']);
    }
    await d.dockerOk(['rm', '-f', swapper]);
    await d.dockerOk(['volume', 'rm', 'race']);
    assert.deepEqual(await readdir(canary), ['keep']);
  });
});
