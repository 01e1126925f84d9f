// Raw HTTP against the daemon: /_ping, version negotiation, headers, 404s, /info, the socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus, release, totalmem } from 'node:os';
import { stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { startDaemon, type ApiResult, type Daemon } from './harness.js';

function assertDockerHeaders(r: ApiResult): void {
  assert.equal(r.headers['api-version'], '1.50');
  assert.equal(r.headers['ostype'], 'linux');
  assert.equal(r.headers['docker-experimental'], 'false');
  assert.match(String(r.headers['server']), /^Docker\/[0-9.]+ \(linux\)$/);
}

function groupId(name: string): number | undefined {
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8' }).trim();
    return Number(line.split(':')[2]);
  } catch {
    return undefined;
  }
}

describe('API basics', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('GET /_ping answers OK with the Docker headers', async () => {
    const r = await d.api('GET', '/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'OK');
    assertDockerHeaders(r);
    assert.equal(r.headers['builder-version'], '1');
    assert.equal(r.headers['swarm'], 'inactive');
    assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(r.headers['pragma'], 'no-cache');
  });

  test('HEAD /_ping answers with the same headers and no body', async () => {
    const r = await d.api('HEAD', '/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assertDockerHeaders(r);
    assert.equal(r.headers['builder-version'], '1');
    assert.equal(r.headers['swarm'], 'inactive');
    assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
  });

  test('versioned /_ping works too', async () => {
    const r = await d.api('GET', '/v1.50/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'OK');
  });

  test('/v1.24/version is accepted', async () => {
    const r = await d.api('GET', '/v1.24/version');
    assert.equal(r.status, 200, r.text);
    assertDockerHeaders(r);
    assert.equal(r.json.ApiVersion, '1.50');
  });

  test('/v1.23/version is too old: 400 with moby\'s message', async () => {
    const r = await d.api('GET', '/v1.23/version');
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(
      r.json.message,
      'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    );
    assertDockerHeaders(r);
  });

  test('/v1.51/version is too new: 400 with moby\'s message', async () => {
    const r = await d.api('GET', '/v1.51/version');
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.json.message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
  });

  test('unversioned /version is API 1.50 with a semver Version and berth in Platform.Name', async () => {
    const r = await d.api('GET', '/version');
    assert.equal(r.status, 200);
    assertDockerHeaders(r);
    assert.equal(r.json.ApiVersion, '1.50');
    assert.equal(r.json.MinAPIVersion, '1.24');
    assert.match(r.json.Version, /^\d+\.\d+\.\d+/);
    assert.match(r.json.Platform.Name, /berth/);
    assert.equal(r.json.Os, 'linux');
    assert.equal(r.json.Arch, 'amd64');
    assert.equal(r.json.KernelVersion, release());
    assert.ok(Array.isArray(r.json.Components));
  });

  test('an unknown path is a 404 "page not found" with Content-Type exactly application/json', async () => {
    for (const path of ['/nope', '/v1.50/nope', '/containers/x/nope']) {
      const r = await d.api('GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-type'], 'application/json', path);
      assert.deepEqual(r.json, { message: 'page not found' }, path);
      assertDockerHeaders(r);
    }
  });

  test('/info carries real figures', async () => {
    const r = await d.api('GET', '/info');
    assert.equal(r.status, 200);
    const info = r.json;
    assert.equal(info.Containers, 0);
    assert.equal(info.ContainersRunning, 0);
    assert.equal(info.ContainersPaused, 0);
    assert.equal(info.ContainersStopped, 0);
    assert.equal(info.Images, 0);
    assert.equal(info.Driver, 'overlay2');
    const v2 = await stat('/sys/fs/cgroup/cgroup.controllers').then(
      () => true,
      () => false,
    );
    assert.equal(info.CgroupVersion, v2 ? '2' : '1');
    assert.ok(info.Runtimes && 'runc' in info.Runtimes, JSON.stringify(info.Runtimes));
    assert.equal(info.DefaultRuntime, 'runc');
    assert.equal(info.KernelVersion, release());
    assert.match(info.OperatingSystem, /Debian GNU\/Linux 12/);
    assert.equal(info.OSType, 'linux');
    assert.equal(info.NCPU, cpus().length);
    assert.equal(info.MemTotal, totalmem());
    assert.equal(info.DockerRootDir, d.dataRoot);
  });

  test('/info has a daemon ID and Name, as dockerd always does', async () => {
    const info = (await d.api('GET', '/info')).json;
    assert.match(info.ID, /\S/, 'docker info prints ID; dockerd persists one per data-root');
    assert.match(info.Name, /\S/);
  });

  test('/info counts containers by state and images', async () => {
    await d.ensureBusybox();
    const created = await d.api('POST', '/containers/create?name=counted', { Image: 'busybox', Cmd: ['sleep', '1000'] });
    assert.equal(created.status, 201, created.text);
    try {
      let info = (await d.api('GET', '/info')).json;
      assert.equal(info.Images, 1);
      assert.equal(info.Containers, 1);
      assert.equal(info.ContainersStopped, 1, 'a created container counts as stopped, as in Docker');
      assert.equal(info.ContainersRunning, 0);
      const started = await d.api('POST', '/containers/counted/start');
      assert.equal(started.status, 204, started.text);
      info = (await d.api('GET', '/info')).json;
      assert.equal(info.ContainersRunning, 1);
      assert.equal(info.ContainersStopped, 0);
    } finally {
      await d.api('DELETE', '/containers/counted?force=1');
    }
  });

  test('the socket is mode 0660, group docker when that group exists', async () => {
    const st = await stat(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    const docker = groupId('docker');
    assert.equal(st.gid, docker ?? 0);
  });
});
