// Volumes and mounts with the docker CLI (issue 9 item 5): named volumes made on first use and
// kept across containers, copy-up of the image's content with its owners, nocopy, anonymous
// volumes (`-v /p`, the image's VOLUME) and rm -v / --rm, --volumes-from, --mount and its
// errors, driver options (tmpfs, a bind of a host dir) mounted only while used, the volume verbs
// with filters, the in-use 409, system df, Mounts in inspect, and docker-py's volume calls.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonForFile, runCommand, type Daemon } from './harness.js';
import { dockerPyEmits } from './python.js';
import { isMountPoint } from '../../src/images/layers/snapshotter.js';

const ANON = 'com.docker.volume.anonymous';

describe('volumes', () => {
  const f = daemonForFile();
  const { name } = f;
  let d: Daemon;
  let work: string;
  const vols = async (filter?: string): Promise<string[]> =>
    (await d.dockerOk(['volume', 'ls', '-q', ...(filter ? ['--filter', filter] : [])])).split('\n').filter(Boolean);
  const volumeEvents = async (since: number) => {
    const r = await d.api('GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ type: ['volume'] }))}`);
    return r.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  };

  before(async () => {
    d = f.daemon();
    work = await mkdtemp(join(tmpdir(), 'berth-vol-'));
    // an image with a VOLUME whose content has owners, modes and a link (built by commit)
    const src = name('vol-img-src');
    await d.dockerOk([
      'run', '--name', src, 'busybox', 'sh', '-c',
      'mkdir -p /data/sub && echo image > /data/sub/f && ln -s sub/f /data/link && chown -R 1000:1001 /data/sub && chmod 751 /data/sub && chmod 640 /data/sub/f',
    ]);
    await d.dockerOk(['commit', '--change', 'VOLUME /data', src, 'volimg']);
    await d.dockerOk(['rm', src]);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('a named volume is made on first use, outlives its container and is seen by the next', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await d.dockerOk(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(await d.dockerOk(['run', '--rm', '-v', 'keep:/other', 'busybox', 'cat', '/other/f']), 'kept');
    const [v] = JSON.parse(await d.dockerOk(['volume', 'inspect', 'keep']));
    assert.equal(v.Name, 'keep');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, join(d.dataRoot, 'volumes/keep/_data'));
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.equal(await readFile(join(v.Mountpoint, 'f'), 'utf8'), 'kept\n');
    const actions = (await volumeEvents(since)).filter((e) => e.Actor.ID === 'keep').map((e) => e.Action);
    assert.deepEqual(actions.slice(0, 3), ['create', 'mount', 'unmount']);
    await d.dockerOk(['volume', 'rm', 'keep']);
    assert.ok((await volumeEvents(since)).some((e) => e.Actor.ID === 'keep' && e.Action === 'destroy'));
    assert.equal((await d.docker(['volume', 'inspect', 'keep'])).stderr.trim(), 'Error response from daemon: get keep: no such volume');
  });

  test("copy-up: a new volume gets the image's content with owners, modes and links; a full one is left alone; nocopy", async () => {
    const out = await d.dockerOk(['run', '--rm', '-v', 'cu:/data', 'volimg', 'sh', '-c', 'stat -c "%u:%g %a" /data/sub /data/sub/f; cat /data/link']);
    assert.equal(out, '1000:1001 751\n1000:1001 640\nimage');
    await d.dockerOk(['run', '--rm', '-v', 'full:/data', 'busybox', 'sh', '-c', 'echo mine > /data/own']);
    assert.equal(await d.dockerOk(['run', '--rm', '-v', 'full:/data', 'volimg', 'ls', '-A', '/data']), 'own');
    assert.equal(await d.dockerOk(['run', '--rm', '-v', 'nc:/data:nocopy', 'volimg', 'ls', '-A', '/data']), '');
    assert.equal(await d.dockerOk(['run', '--rm', '--mount', 'type=volume,source=nc2,target=/data,volume-nocopy=true', 'volimg', 'ls', '-A', '/data']), '');
    // at create, as Docker: a container that never starts has filled the volume, its rootfs left unmounted
    const id = await d.dockerOk(['create', '--name', name('cu-created'), '-v', 'cuc:/data', 'volimg']);
    assert.equal(await isMountPoint(join(d.dataRoot, 'snapshots/containers', id, 'merged')), false);
    assert.equal(await d.dockerOk(['run', '--rm', '-v', 'cuc:/x', 'busybox', 'stat', '-c', '%u:%g %a', '/x/sub']), '1000:1001 751');
    await d.dockerOk(['rm', id]);
    await d.dockerOk(['volume', 'rm', 'cu', 'full', 'nc', 'nc2', 'cuc']);
  });

  test("anonymous volumes: the image's VOLUME and -v /p, labelled; rm -v takes them and leaves named ones; --rm takes them", async () => {
    const c = name('anon');
    await d.dockerOk(['create', '--name', c, '-v', '/scratch', '-v', 'named-kept:/n', 'volimg']);
    const mounts = (await f.inspect(c)).Mounts as any[];
    const anon = mounts.filter((m) => m.Type === 'volume' && m.Name !== 'named-kept');
    assert.equal(anon.length, 2);
    for (const m of anon) {
      assert.match(m.Name, /^[0-9a-f]{64}$/);
      assert.equal(m.Mode, '');
      assert.equal(m.Driver, 'local');
      assert.equal(m.RW, true);
      assert.equal(m.Source, join(d.dataRoot, 'volumes', m.Name, '_data'));
      const [v] = JSON.parse(await d.dockerOk(['volume', 'inspect', m.Name]));
      assert.deepEqual(v.Labels, { [ANON]: '' });
    }
    assert.deepEqual(anon.map((m) => m.Destination).sort(), ['/data', '/scratch']);
    const named = mounts.find((m) => m.Name === 'named-kept');
    assert.deepEqual(named, { Type: 'volume', Name: 'named-kept', Source: join(d.dataRoot, 'volumes/named-kept/_data'), Destination: '/n', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    await d.dockerOk(['rm', '-v', c]);
    const left = await vols();
    for (const m of anon) assert.ok(!left.includes(m.Name), 'anonymous volume removed');
    assert.ok(left.includes('named-kept'));
    await d.dockerOk(['volume', 'rm', 'named-kept']);

    const before = await vols(`label=${ANON}`);
    await d.dockerOk(['run', '--rm', '-v', '/tmpdata', 'volimg', 'true']);
    assert.deepEqual(await vols(`label=${ANON}`), before, '--rm removed the anonymous volumes');
  });

  test('--volumes-from shares the volumes and binds of another container, :ro making them read-only', async () => {
    const src = name('vf-src');
    const host = join(work, 'vf-bind');
    await d.dockerOk(['create', '--name', src, '-v', 'vf-shared:/shared', '-v', `${host}:/hostdir`, 'busybox']);
    await d.dockerOk(['run', '--rm', '--volumes-from', src, 'busybox', 'sh', '-c', 'echo rw > /shared/f && echo h > /hostdir/h']);
    assert.equal(await readFile(join(host, 'h'), 'utf8'), 'h\n');
    const ro = await d.docker(['run', '--rm', '--volumes-from', `${src}:ro`, 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/g']);
    assert.equal(ro.code, 1);
    assert.equal(ro.stdout, 'rw\n');
    assert.match(ro.stderr, /Read-only file system/);
    const bad = await d.docker(['run', '--rm', '--volumes-from', 'no-such-container', 'busybox', 'true']);
    assert.match(bad.stderr, /No such container: no-such-container/);
  });

  test('--mount bind, volume and tmpfs with their options; the errors moby gives', async () => {
    const c = name('mounts');
    const host = join(work, 'mnt-src');
    await d.dockerOk(['run', '--rm', '-v', `${host}:/x`, 'busybox', 'true']);
    assert.ok((await stat(host)).isDirectory(), '-v created the missing host dir');
    await writeFile(join(host, 'file'), 'from host\n');
    await d.dockerOk([
      'run', '--name', c,
      '--mount', `type=bind,source=${host},target=/b,readonly`,
      '--mount', 'type=volume,source=mvol,target=/v,volume-label=team=web',
      '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770',
      'busybox', 'sh', '-c', 'cat /b/file; touch /b/no 2>/dev/null || echo ro; grep " /t " /proc/mounts',
    ]);
    const logs = await d.dockerOk(['logs', c]);
    assert.match(logs, /^from host\nro\ntmpfs \/t tmpfs rw,[^ ]*size=1024k,mode=1770/);
    const mounts = (await f.inspect(c)).Mounts as any[];
    const byDest = Object.fromEntries(mounts.map((m) => [m.Destination, m]));
    assert.deepEqual(byDest['/b'], { Type: 'bind', Source: host, Destination: '/b', Mode: '', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(byDest['/t'], { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' });
    assert.equal(byDest['/v'].Name, 'mvol');
    assert.deepEqual(JSON.parse(await d.dockerOk(['volume', 'inspect', 'mvol']))[0].Labels, { team: 'web' });
    assert.deepEqual(await d.dockerOk(['ps', '-a', '-q', '--no-trunc', '--filter', 'volume=mvol']), (await f.inspect(c)).Id);
    assert.deepEqual(await d.dockerOk(['ps', '-a', '-q', '--no-trunc', '--filter', 'volume=/t']), (await f.inspect(c)).Id);

    // volume-opt makes the volume on first use with those driver options; no source: anonymous
    const vo = name('mount-vo');
    await d.dockerOk(['run', '--name', vo, '--mount', 'type=volume,source=mvo,target=/o,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m', '--mount', 'type=volume,target=/anon', 'busybox', 'grep', ' /o ', '/proc/mounts']);
    assert.match(await d.dockerOk(['logs', vo]), /^tmpfs \/o tmpfs .*size=1024k/);
    assert.deepEqual(JSON.parse(await d.dockerOk(['volume', 'inspect', 'mvo']))[0].Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    const anonMount = ((await f.inspect(vo)).Mounts as any[]).find((m) => m.Destination === '/anon');
    assert.deepEqual(JSON.parse(await d.dockerOk(['volume', 'inspect', anonMount.Name]))[0].Labels, { [ANON]: '' });
    await d.dockerOk(['rm', '-v', vo]);
    assert.ok(!(await vols()).includes(anonMount.Name));
    await d.dockerOk(['volume', 'rm', 'mvo']);

    const missing = await d.docker(['run', '--rm', '--mount', 'type=bind,source=/nonexistent-berth,target=/x', 'busybox', 'true']);
    assert.match(missing.stderr, /invalid mount config for type "bind": bind source path does not exist: \/nonexistent-berth/);
    const dup = await d.docker(['create', '-v', `${host}:/x`, '-v', 'dupvol:/x', 'busybox']);
    assert.match(dup.stderr, /Duplicate mount point: \/x/);
    // (the CLI reads `-v a:/x` as a Windows drive path: through the API)
    const badName = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['a:/x'] } });
    assert.equal(badName.status, 400);
    assert.equal(badName.json.message, 'create a: volume name is too short, names should be at least two alphanumeric characters');
    const escape = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['../../etc:/x'] } });
    assert.equal(escape.status, 400);
    assert.match(escape.json.message, /create \.\.\/\.\.\/etc: "\.\.\/\.\.\/etc" includes invalid characters for a local volume name/);
    for (const hc of [{ VolumesFrom: 'x' }, { Mounts: [{ Type: 'bind', Source: 5, Target: '/x' }] }, { Mounts: {} }, { Tmpfs: 'x', Binds: ['/tmp:/x'] }]) {
      const r = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: hc });
      assert.ok(r.status === 400 || r.status === 201, `${JSON.stringify(hc)}: ${r.status} ${r.text}`);
      if (r.status === 201) await d.api('DELETE', `/containers/${r.json.Id}`);
    }
    const badMode = await d.docker(['create', '-v', `${host}:/x:bogus`, 'busybox']);
    assert.match(badMode.stderr, /invalid mode: bogus/);
    const ro = await d.docker(['create', '--mount', 'type=volume,target=/x,readonly', 'busybox']);
    assert.match(ro.stderr, /must not set ReadOnly mode when using anonymous volumes/);
    // a failed create leaves no volume behind
    assert.ok(!(await vols()).includes('dupvol') || (await d.dockerOk(['volume', 'rm', 'dupvol'])) === 'dupvol');
  });

  test('bind options: :z/:Z accepted, propagation kept, bind-recursive=disabled leaves submounts out', async () => {
    const host = join(work, 'nr');
    await mkdir(join(host, 'sub'), { recursive: true });
    await runCommand('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'berth-test', join(host, 'sub')]);
    try {
      await writeFile(join(host, 'sub/inside'), 'x');
      assert.equal(await d.dockerOk(['run', '--rm', '-v', `${host}:/b:ro,Z`, 'busybox', 'ls', '/b/sub']), 'inside');
      assert.equal(await d.dockerOk(['run', '--rm', '--mount', `type=bind,source=${host},target=/b,bind-recursive=disabled`, 'busybox', 'ls', '/b/sub']), '');
      const c = name('prop');
      await d.dockerOk(['create', '--name', c, '-v', `${host}:/b:z,rslave`, 'busybox']);
      const [m] = (await f.inspect(c)).Mounts;
      assert.deepEqual(m, { Type: 'bind', Source: host, Destination: '/b', Mode: 'z,rslave', RW: true, Propagation: 'rslave' });
    } finally {
      await runCommand('umount', [join(host, 'sub')]);
    }
    // a bind of the data-root's parent is rslave unless asked otherwise, as moby (a private one would pin its mounts)
    const near = name('near-root');
    await d.dockerOk(['create', '--name', near, '-v', `${d.base}:/base`, 'busybox']);
    assert.equal((await f.inspect(near)).Mounts[0].Propagation, 'rslave');
    const priv = await d.docker(['create', '--mount', `type=bind,source=${d.base},target=/base,bind-propagation=private`, 'busybox']);
    assert.match(priv.stderr, /invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root/);
    const [plain] = JSON.parse(await d.dockerOk(['volume', 'inspect', (await d.dockerOk(['volume', 'create', 'plain-cli']))]));
    assert.equal(plain.Labels, null);
    assert.equal(plain.Options, null);
    await d.dockerOk(['volume', 'rm', 'plain-cli']);
  });

  test('driver options: a tmpfs volume and a bind of a host dir are mounted while used, unmounted after', async () => {
    await d.dockerOk(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m', 'tv']);
    const tvData = join(d.dataRoot, 'volumes/tv/_data');
    const c = name('tv-user');
    await d.dockerOk(['run', '-d', '--name', c, '-v', 'tv:/t', 'busybox', 'sh', '-c', 'echo x > /t/x; sleep 1000']);
    assert.equal(await isMountPoint(tvData), true);
    assert.match(await d.dockerOk(['exec', c, 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs .*size=2048k/);
    await d.dockerOk(['rm', '-f', c]);
    assert.equal(await isMountPoint(tvData), false, 'unmounted when no running container uses it');

    const host = join(work, 'bind-dev');
    await d.dockerOk(['run', '--rm', '-v', `${host}:/h`, 'busybox', 'sh', '-c', 'echo host > /h/seed']);
    await d.dockerOk(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'bv']);
    assert.equal(await d.dockerOk(['run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'cat /b/seed; echo back > /b/out']), 'host');
    assert.equal(await readFile(join(host, 'out'), 'utf8'), 'back\n');
    assert.equal(await isMountPoint(join(d.dataRoot, 'volumes/bv/_data')), false);
    await d.dockerOk(['volume', 'rm', 'bv', 'tv']);
    assert.equal(await readFile(join(host, 'seed'), 'utf8'), 'host\n', 'removing the volume leaves the host dir alone');

    const bad = await d.docker(['volume', 'create', '-o', 'type=tmpfs', 'bad']);
    assert.match(bad.stderr, /create bad: missing required option: "device"/);
    const badOpt = await d.docker(['volume', 'create', '-o', 'foo=bar', 'bad']);
    assert.match(badOpt.stderr, /create bad: invalid option: "foo"/);
  });

  test('volume ls filters, inspect, rm of a volume in use (409 naming the container), prune', async () => {
    await d.dockerOk(['volume', 'create', '--label', 'app=one', 'f-one']);
    await d.dockerOk(['volume', 'create', '--label', 'app=two', 'f-two']);
    assert.equal(await d.dockerOk(['volume', 'create', 'f-one']), 'f-one', 'an existing name returns it');
    const user = name('f-user');
    await d.dockerOk(['create', '--name', user, '-v', 'f-two:/d', 'busybox']);
    const id = (await f.inspect(user)).Id;
    assert.deepEqual(await vols('label=app=one'), ['f-one']);
    assert.deepEqual(await vols('name=^f-t'), ['f-two']);
    assert.ok((await vols('dangling=true')).includes('f-one'));
    assert.ok(!(await vols('dangling=true')).includes('f-two'));
    assert.ok((await vols('dangling=false')).includes('f-two'));
    assert.ok(!(await vols('dangling=false')).includes('f-one'));
    assert.ok((await vols('driver=local')).includes('f-one'));

    const inUse = await d.docker(['volume', 'rm', 'f-two']);
    assert.equal(inUse.code, 1);
    assert.equal(inUse.stderr.trim(), `Error response from daemon: remove f-two: volume is in use - [${id}]`);
    const api = await d.api('DELETE', '/volumes/f-two?force=1');
    assert.equal(api.status, 409);
    assert.equal((await d.api('DELETE', '/volumes/never-was')).status, 404);
    assert.equal((await d.api('DELETE', '/volumes/never-was?force=1')).status, 204);
    assert.equal((await d.api('GET', '/volumes/..%2F..%2Fetc')).status, 404);
    const badCreate = await d.api('POST', '/volumes/create', { Name: '../escape' });
    assert.equal(badCreate.status, 400);

    // prune: anonymous only by default, named ones with --all, never one in use
    await d.dockerOk(['create', '--name', name('f-anon'), '-v', '/a', 'busybox']);
    await d.dockerOk(['rm', name('f-anon')]);
    const anonLeft = await vols(`label=${ANON}`);
    assert.ok(anonLeft.length >= 1);
    const pruned = JSON.parse((await d.api('POST', '/volumes/prune')).text);
    assert.deepEqual(pruned.VolumesDeleted.sort(), anonLeft.sort());
    assert.ok((await vols()).includes('f-one'));
    const out = await d.dockerOk(['volume', 'prune', '-a', '-f', '--filter', 'label=app']);
    assert.match(out, /Deleted Volumes:\nf-one\n/);
    assert.deepEqual(await vols('label=app'), ['f-two']);
    // clients of API < 1.42 prune named volumes too, as dockerd does for them
    await d.dockerOk(['volume', 'create', 'f-old']);
    const old = (await d.api('POST', '/v1.41/volumes/prune')).json;
    assert.ok(old.VolumesDeleted.includes('f-old'));
    assert.ok(!old.VolumesDeleted.includes('f-two'), 'never one in use');
    await d.dockerOk(['rm', user]);
    await d.dockerOk(['volume', 'rm', 'f-two']);
  });

  test('docker system df counts volumes, -v lists them', async () => {
    await d.dockerOk(['run', '--rm', '-v', 'df-vol:/d', 'busybox', 'sh', '-c', 'head -c 4096 /dev/zero > /d/z']);
    const df = await d.dockerOk(['system', 'df']);
    assert.match(df, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE/);
    assert.match(df, /Images\s+\d+/);
    assert.match(df, /Containers\s+\d+/);
    assert.match(df, /Local Volumes\s+[1-9]\d*\s+\d+\s+[\d.]+k?B/);
    const verbose = await d.dockerOk(['system', 'df', '-v']);
    assert.match(verbose, /df-vol\s+0\s+4\.096kB/);
    const api = (await d.api('GET', '/system/df')).json;
    const v = api.Volumes.find((x: any) => x.Name === 'df-vol');
    assert.deepEqual(v.UsageData, { Size: 4096, RefCount: 0 });
    assert.deepEqual(api.BuildCache, []);
    await d.dockerOk(['volume', 'rm', 'df-vol']);
  });

  test("docker-py: volumes.create/list/get/remove/prune", async () => {
    const got = await dockerPyEmits(d, `
v = client.volumes.create(name='py-vol', driver='local', labels={'k': 'v'})
emit(v.name)
emit(sorted(x.name for x in client.volumes.list(filters={'label': 'k=v'})))
emit(client.volumes.get('py-vol').attrs['Labels'])
a = client.volumes.create()
emit(a.attrs['Labels'])
r = client.volumes.prune()
emit(a.name in (r['VolumesDeleted'] or []))
client.volumes.get('py-vol').remove()
try:
    client.volumes.get('py-vol')
    emit('still there')
except docker.errors.NotFound as e:
    emit('gone')
`);
    assert.deepEqual(got, ['py-vol', ['py-vol'], { k: 'v' }, { [ANON]: '' }, true, 'gone']);
  });
});
