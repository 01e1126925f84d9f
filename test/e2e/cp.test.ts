// docker cp through the archive endpoints, with the real CLI both ways, and hostile input
// through the raw API: links that point at the host, archives that climb out, device nodes, huge
// headers, truncated tars. A canary directory on the host must never be touched, and a stopped
// container's rootfs must not stay mounted.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tarOf } from '../fixtures/tar-of.js';
import { checkCanaryAndRemove, makeCanary } from '../fixtures/canary.js';
import { DOCKER_BIN, daemonForFile, type Daemon } from './harness.js';

describe('docker cp', () => {
  const f = daemonForFile();
  const { name } = f;
  let d: Daemon;
  let work: string;
  let canary: string;
  before(async () => {
    d = f.daemon();
    ({ work, canary } = await makeCanary('berth-cp-'));
  });
  after(async () => {
    // nothing written under the host paths the hostile inputs aimed at
    await checkCanaryAndRemove({ work, canary });
  });

  const put = (c: string, path: string, body: Buffer, query = '') =>
    d.api('PUT', `/containers/${c}/archive?path=${encodeURIComponent(path)}${query}`, body, { headers: { 'content-type': 'application/x-tar' } });
  const statOf = async (c: string, path: string) => {
    const r = await d.api('HEAD', `/containers/${c}/archive?path=${encodeURIComponent(path)}`);
    const header = r.headers['x-docker-container-path-stat'];
    return { status: r.status, stat: header ? JSON.parse(Buffer.from(String(header), 'base64').toString()) : undefined };
  };
  /** Mount points of this daemon's container rootfs (running containers of other tests excluded by id). */
  const mountedRootfs = async (id: string) =>
    (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(join(d.dataRoot, 'snapshots/containers', id)));

  test('both ways with the CLI: a file, a directory, dir/., tar on stdin and stdout', async () => {
    const c = name('cp-run');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sleep', '1000']);
    await mkdir(join(work, 'src/dir/sub'), { recursive: true });
    await writeFile(join(work, 'src/file.txt'), 'hello\n');
    await writeFile(join(work, 'src/dir/sub/deep.txt'), 'deep\n');
    await d.dockerOk(['cp', join(work, 'src/file.txt'), `${c}:/tmp/`]);
    await d.dockerOk(['cp', join(work, 'src/dir'), `${c}:/tmp/dir`]);
    assert.equal(await d.dockerOk(['exec', c, 'cat', '/tmp/file.txt', '/tmp/dir/sub/deep.txt']), 'hello\ndeep');

    await d.dockerOk(['cp', `${c}:/etc/passwd`, join(work, 'passwd')]);
    assert.match(await readFile(join(work, 'passwd'), 'utf8'), /^root:x:0:0/);
    await d.dockerOk(['cp', `${c}:/tmp/dir/.`, join(work, 'contents')]);
    assert.equal(await readFile(join(work, 'contents/sub/deep.txt'), 'utf8'), 'deep\n');

    const out = spawnSync('sh', ['-c', `${DOCKER_BIN} cp ${c}:/tmp/dir - | tar -t`], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` } });
    assert.deepEqual(out.stdout.toString().trim().split('\n').sort(), ['dir/', 'dir/sub/', 'dir/sub/deep.txt']);
    const tarIn = await tarOf([{ header: { name: 'piped.txt', mode: 0o640 }, body: 'from stdin' }]);
    const piped = spawnSync(DOCKER_BIN, ['cp', '-', `${c}:/tmp`], { input: tarIn, env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` } });
    assert.equal(piped.status, 0, piped.stderr.toString());
    assert.equal(await d.dockerOk(['exec', c, 'sh', '-c', 'cat /tmp/piped.txt; stat -c " %a" /tmp/piped.txt']), 'from stdin 640');
  });

  test('HEAD stat: size, Go file mode, link target resolved in the container; errors', async () => {
    const c = name('cp-stat');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'ln -s /etc /etclink; mkdir -p /d; sleep 1000']);
    await d.dockerOk(['exec', c, 'true']);
    const dir = await statOf(c, '/etc');
    assert.equal(dir.status, 200);
    assert.equal(dir.stat.name, 'etc');
    assert.equal(dir.stat.mode >>> 31, 1, 'ModeDir');
    let link: Awaited<ReturnType<typeof statOf>> | undefined;
    for (let i = 0; i < 50 && !link?.stat; i++) {
      link = await statOf(c, '/etclink');
      if (!link.stat) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((link!.stat.mode >>> 27) & 1, 1, 'ModeSymlink');
    assert.equal(link!.stat.linkTarget, '/etc');
    assert.equal((await statOf(c, '/no/such')).status, 404);
    const missing = await d.docker(['cp', `${c}:/no/such`, join(work, 'x')]);
    assert.match(missing.stderr, /Could not find the file \/no\/such in container/);
    const nodir = await put(c, '/etc/passwd', await tarOf([{ header: { name: 'x' }, body: 'x' }]));
    assert.equal(nodir.status, 400);
    assert.match(nodir.json.message, /extraction point is not a directory/);
    assert.equal((await d.api('HEAD', '/containers/no-such-ctr/archive?path=/')).status, 404);
  });

  test('a stopped container: copy in and out, and its rootfs is unmounted again', async () => {
    const c = name('cp-stopped');
    const id = await d.dockerOk(['create', '--name', c, 'busybox', 'cat', '/in.txt']);
    await writeFile(join(work, 'in.txt'), 'copied while stopped\n');
    await d.dockerOk(['cp', join(work, 'in.txt'), `${c}:/in.txt`]);
    assert.deepEqual(await mountedRootfs(id), []);
    await d.dockerOk(['cp', `${c}:/etc/hostname`, join(work, 'hn')]).catch(() => undefined);
    await d.dockerOk(['cp', `${c}:/in.txt`, join(work, 'back.txt')]);
    assert.equal(await readFile(join(work, 'back.txt'), 'utf8'), 'copied while stopped\n');
    // a GET unmounts once its tar stream has ended, which may be just after the client has it all
    let left = await mountedRootfs(id);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await mountedRootfs(id);
    }
    assert.deepEqual(left, []);
    assert.equal(await d.dockerOk(['start', '-a', c]), 'copied while stopped');
  });

  test('into and out of a bind mount; -a gives the files to the container user', async () => {
    const bind = join(work, 'bind');
    await mkdir(bind);
    const c = name('cp-bind');
    await d.dockerOk(['run', '-d', '--name', c, '-u', 'nobody', '-v', `${bind}:/mnt/b`, 'busybox', 'sleep', '1000']);
    await writeFile(join(work, 'tob.txt'), 'to bind\n');
    await d.dockerOk(['cp', join(work, 'tob.txt'), `${c}:/mnt/b/`]);
    assert.equal(await readFile(join(bind, 'tob.txt'), 'utf8'), 'to bind\n');
    await writeFile(join(bind, 'fromb.txt'), 'from bind\n');
    await d.dockerOk(['cp', `${c}:/mnt/b/fromb.txt`, join(work, 'fromb.txt')]);
    assert.equal(await readFile(join(work, 'fromb.txt'), 'utf8'), 'from bind\n');

    await d.dockerOk(['cp', '-a', join(work, 'tob.txt'), `${c}:/tmp/owned.txt`]);
    assert.equal(await d.dockerOk(['exec', c, 'stat', '-c', '%u:%g', '/tmp/owned.txt']), '65534:65534');
    const plain = await tarOf([{ header: { name: 'kept.txt', uid: 1234, gid: 4321 }, body: 'k' }]);
    assert.equal((await put(c, '/tmp', plain)).status, 200);
    assert.equal(await d.dockerOk(['exec', c, 'stat', '-c', '%u:%g', '/tmp/kept.txt']), '1234:4321');
  });

  test('a symlink to a bind destination reaches the bind, and a read-only bind stays read-only through it (review §16)', async () => {
    const rw = join(work, 'bind-rw');
    const ro = join(work, 'bind-ro');
    await mkdir(rw);
    await mkdir(ro);
    await writeFile(join(ro, 'inside.txt'), 'ro\n');
    const c = name('cp-bind-link');
    // a destination written with a trailing slash is the same mountpoint
    await d.dockerOk(['run', '-d', '--name', c, '-v', `${rw}:/data/`, '-v', `${ro}:/ro:ro`, 'busybox', 'sh', '-c', 'ln -s /data /to-data; ln -s ../ro /to-ro; sleep 1000']);
    await d.dockerOk(['exec', c, 'true']);
    await writeFile(join(work, 'via.txt'), 'via link\n');
    await d.dockerOk(['cp', join(work, 'via.txt'), `${c}:/to-data/`]);
    // where the container sees it, and so on the host: not under the mountpoint in the rootfs
    assert.equal(await readFile(join(rw, 'via.txt'), 'utf8'), 'via link\n');
    assert.equal(await d.dockerOk(['exec', c, 'cat', '/data/via.txt']), 'via link');
    assert.equal((await put(c, '/to-ro', await tarOf([{ header: { name: 'x' }, body: 'x' }]))).status, 403);
    assert.deepEqual(await readdir(ro), ['inside.txt']);
    // out through the link, and the stat of a link names its target in the container
    assert.equal(await d.dockerOk(['cp', `${c}:/to-ro/inside.txt`, '-']).then((t) => t.includes('ro')), true);
    const st = await statOf(c, '/to-data');
    assert.equal(st.stat.linkTarget, '/data');
  });

  test('read-only rootfs and noOverwriteDirNonDir', async () => {
    const ro = name('cp-ro');
    await d.dockerOk(['run', '-d', '--name', ro, '--read-only', 'busybox', 'sleep', '1000']);
    const r = await put(ro, '/tmp', await tarOf([{ header: { name: 'x' }, body: 'x' }]));
    assert.equal(r.status, 403);
    assert.match(r.json.message, /container rootfs is marked read-only/);

    const c = name('cp-ow');
    await d.dockerOk(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'mkdir /tmp/adir; touch /tmp/afile; sleep 1000']);
    await d.dockerOk(['exec', c, 'true']);
    const fileOverDir = await put(c, '/tmp', await tarOf([{ header: { name: 'adir' }, body: 'x' }]), '&noOverwriteDirNonDir=true');
    assert.equal(fileOverDir.status, 400);
    assert.match(fileOverDir.json.message, /cannot overwrite directory/);
    const dirOverFile = await put(c, '/tmp', await tarOf([{ header: { name: 'afile', type: 'directory' } }]), '&noOverwriteDirNonDir=true');
    assert.equal(dirOverFile.status, 400);
    assert.match(dirOverFile.json.message, /cannot overwrite non-directory/);
    // without the flag the entry replaces what was there
    assert.equal((await put(c, '/tmp', await tarOf([{ header: { name: 'adir' }, body: 'now a file' }]))).status, 200);
    assert.equal(await d.dockerOk(['exec', c, 'cat', '/tmp/adir']), 'now a file');
  });

  test('hostile paths and archives stay inside the container root; the daemon stays up', async () => {
    const c = name('cp-evil');
    const id = await d.dockerOk([
      'run', '-d', '--name', c, 'busybox', 'sh', '-c',
      `ln -s ${canary} /tmp/tohost; ln -s ../../../../../../../../${canary.slice(1)} /tmp/uphost; ln -s / /tmp/root; sleep 1000`,
    ]);
    await d.dockerOk(['exec', c, 'true']);
    // copy into symlinks that name host paths: they resolve inside the container
    for (const dest of ['/tmp/tohost', '/tmp/uphost', '/tmp/root/../..' + canary]) {
      const r = await put(c, dest, await tarOf([{ header: { name: 'evil.txt' }, body: 'evil' }]));
      assert.ok(r.status === 200 || r.status === 404, `${dest}: ${r.status} ${r.text}`);
    }
    // copying out through the links reads the container's tree, not the host's
    const out = await d.api('GET', `/containers/${c}/archive?path=${encodeURIComponent('/tmp/tohost/keep')}`);
    assert.equal(out.status, 404);

    const climb = await put(c, '/tmp', await tarOf([{ header: { name: `../../../../../../..${canary}/climb.txt` }, body: 'x' }]));
    assert.equal(climb.status, 400);
    assert.match(climb.json.message, /is outside of/);
    const absolute = await put(c, '/tmp', await tarOf([{ header: { name: `${canary}/abs.txt` }, body: 'abs' }]));
    assert.equal(absolute.status, 200);
    assert.equal(await d.dockerOk(['exec', c, 'cat', `/tmp${canary}/abs.txt`]), 'abs');
    // a relative link climbing out of the extraction dir is refused (moby's breakout check)
    const badLink = await put(c, '/tmp', await tarOf([{ header: { name: 'l', type: 'symlink', linkname: '../../../../../etc/shadow' } }]));
    assert.equal(badLink.status, 400);
    // a link then a file through it, in one archive: the file lands inside the container
    const through = await put(c, '/tmp', await tarOf([
      { header: { name: 'hop', type: 'symlink', linkname: canary } },
      { header: { name: 'hop/through.txt' }, body: 'through' },
    ]));
    assert.equal(through.status, 200, through.text);
    assert.equal(await d.dockerOk(['exec', c, 'cat', `${canary}/through.txt`]), 'through');
    const hard = await put(c, '/tmp', await tarOf([{ header: { name: 'h', type: 'link', linkname: '../../../../etc/shadow' } }]));
    assert.equal(hard.status, 400);
    const dev = await put(c, '/tmp', await tarOf([{ header: { name: 'kmem', type: 'character-device', devmajor: 1, devminor: 2 } }]));
    assert.equal(dev.status, 400);
    assert.match(dev.json.message, /device nodes and fifos are not copied/);
    const huge = await put(c, '/tmp', await tarOf([{ header: { name: 'p.txt', pax: { comment: 'x'.repeat(2 * 1024 * 1024) } }, body: 'p' }]));
    assert.equal(huge.status, 400);
    assert.match(huge.json.message, /metadata record/);
    const cut = await put(c, '/tmp', await tarOf([{ header: { name: 'cut.bin' }, body: Buffer.alloc(100_000, 1) }], { truncateTo: 20_000 }));
    assert.equal(cut.status, 400, cut.text);

    assert.equal((await d.api('GET', '/_ping')).status, 200);
    assert.equal(existsSync(join(canary, 'evil.txt')), false);
    assert.ok((await stat(join(d.dataRoot, 'containers', id))).isDirectory());
  });
});
