// Lifecycle commands with the real docker CLI: restart, pause/unpause, rename, update, top,
// stats, container prune. Each test makes its own containers and removes them in afterEach.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { daemonForFile, type Daemon } from './harness.js';

describe('lifecycle', () => {
  const f = daemonForFile();
  const { name, inspect } = f;
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  test('restart gives a running container a new process, and starts a stopped one', async () => {
    const n = name('rs1');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    const before = await inspect(n);
    assert.equal(await d.dockerOk(['restart', '-t', '0', n]), n);
    const afterRestart = await inspect(n);
    assert.equal(afterRestart.State.Status, 'running');
    assert.notEqual(afterRestart.State.Pid, before.State.Pid);
    await d.dockerOk(['stop', '-t', '0', n]);
    assert.equal((await inspect(n)).State.Status, 'exited');
    await d.dockerOk(['restart', n]);
    assert.equal((await inspect(n)).State.Status, 'running');
  });

  test('pause and unpause, with the conflicts Docker reports', async () => {
    const n = name('ps1');
    const id = await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    await d.dockerOk(['pause', n]);
    let c = await inspect(n);
    assert.equal(c.State.Status, 'paused');
    assert.equal(c.State.Paused, true);
    assert.match(await d.dockerOk(['ps', '--filter', `name=${n}`, '--format', '{{.Status}}']), /\(Paused\)$/);
    const again = await d.api('POST', `/containers/${n}/pause`);
    assert.equal(again.status, 409);
    assert.equal(again.json.message, `Container ${id} is already paused`);
    await d.dockerOk(['unpause', n]);
    c = await inspect(n);
    assert.equal(c.State.Status, 'running');
    const notPaused = await d.api('POST', `/containers/${n}/unpause`);
    assert.equal(notPaused.status, 409);
    assert.equal(notPaused.json.message, `Container ${id} is not paused`);
    // a paused container can still be killed
    await d.dockerOk(['pause', n]);
    await d.dockerOk(['kill', n]);
    c = await d.waitInspect(n, (x) => x.State.Status === 'exited');
    assert.equal(c.State.ExitCode, 137);
  });

  test('rename, and a rename onto a taken name is a 409', async () => {
    const a = name('rn-a');
    const b = name('rn-b');
    await d.dockerOk(['create', '--name', a, 'busybox', 'true']);
    await d.dockerOk(['create', '--name', b, 'busybox', 'true']);
    const clash = await d.docker(['rename', a, b]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /is already in use/);
    const c = name('rn-c');
    await d.dockerOk(['rename', a, c]);
    assert.equal((await inspect(c)).Name, '/rn-c');
    assert.notEqual((await d.docker(['inspect', a])).code, 0);
  });

  test('update changes the running cgroup and HostConfig', async () => {
    const n = name('up1');
    const id = await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    await d.dockerOk(['update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '50', n]);
    const c = await inspect(n);
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(c.HostConfig.PidsLimit, 50);
    const v1 = `/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`;
    const v2 = `/sys/fs/cgroup/berth/${id}/memory.max`;
    const limit = (await readFile(existsSync(v1) ? v1 : v2, 'utf8')).trim();
    assert.equal(limit, String(64 * 1024 * 1024));
    const bad = await d.docker(['update', '--memory', '1k', n]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
  });

  test('update of CPU limits, pids and the restart policy reaches the running cgroup', async () => {
    const n = name('up2');
    const id = await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    await d.dockerOk(['update', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '40', '--restart', 'on-failure:3', n]);
    const c = await inspect(n);
    assert.equal(c.HostConfig.NanoCpus, 500_000_000);
    assert.equal(c.HostConfig.CpuShares, 512);
    assert.equal(c.HostConfig.CpusetCpus, '0');
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    const read = (path: string) => readFile(path, 'utf8').then((t) => t.trim());
    const cpuV1 = ['cpu,cpuacct', 'cpu'].map((c) => `/sys/fs/cgroup/${c}/berth/${id}`).find((p) => existsSync(p));
    if (cpuV1) {
      const quota = Number(await read(`${cpuV1}/cpu.cfs_quota_us`));
      assert.equal(quota / Number(await read(`${cpuV1}/cpu.cfs_period_us`)), 0.5);
      assert.equal(await read(`${cpuV1}/cpu.shares`), '512');
      assert.equal(await read(`/sys/fs/cgroup/cpuset/berth/${id}/cpuset.cpus`), '0');
      assert.equal(await read(`/sys/fs/cgroup/pids/berth/${id}/pids.max`), '40');
    } else {
      const v2 = `/sys/fs/cgroup/berth/${id}`;
      const [quota, period] = (await read(`${v2}/cpu.max`)).split(' ').map(Number);
      assert.equal(quota / period, 0.5);
      assert.equal(await read(`${v2}/cpuset.cpus`), '0');
      assert.equal(await read(`${v2}/pids.max`), '40');
    }
    // The container itself sees the cap: a 41st process cannot be forked.
    const fork = await d.docker(['exec', n, 'sh', '-c', 'for i in $(seq 1 60); do sleep 5 & done; wait']);
    assert.notEqual(fork.code, 0);
    assert.match(fork.stderr + fork.stdout, /can't fork|Resource temporarily unavailable|Try again/i);
  });

  test('sizes: docker ps -s and inspect -s count the writable layer and the image', async () => {
    const n = name('size');
    await d.dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', 'head -c 3000000 /dev/zero > /big && ln /big /big2']);
    const c = (await d.api('GET', `/containers/${n}/json?size=1`)).json as { SizeRw: number; SizeRootFs: number };
    const image = await d.dockerOk(['image', 'inspect', '-f', '{{.Size}}', 'busybox']);
    // the hard link counts once; the rest of the upper dir is a few directories at most
    assert.ok(c.SizeRw >= 3_000_000 && c.SizeRw < 3_100_000, `SizeRw ${c.SizeRw}`);
    assert.equal(c.SizeRootFs, c.SizeRw + Number(image));
    const plain = (await d.api('GET', `/containers/${n}/json`)).json as Record<string, unknown>;
    assert.equal(plain.SizeRw, undefined);
    const row = await d.dockerOk(['ps', '-a', '-s', '--filter', `name=${n}`, '--format', '{{.Size}}']);
    assert.match(row, /^3(\.\d+)?MB \(virtual \d+(\.\d+)?MB\)$/);
  });

  test('top lists the container processes; 409 when it is not running', async () => {
    const n = name('tp1');
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    const out = await d.dockerOk(['top', n]);
    assert.match(out.split('\n')[0], /PID/);
    assert.match(out, /sleep 1000/);
    const top = await d.api('GET', `/containers/${n}/top?ps_args=-o%20pid,comm`);
    assert.equal(top.status, 200);
    assert.deepEqual(top.json.Titles, ['PID', 'COMMAND']);
    assert.equal(top.json.Processes.length, 1);
    await d.dockerOk(['stop', '-t', '0', n]);
    assert.equal((await d.api('GET', `/containers/${n}/top`)).status, 409);
  });

  test('stats: one-shot JSON with cgroup figures, and docker stats --no-stream', async () => {
    const n = name('st1');
    await d.dockerOk(['run', '-d', '--name', n, '--memory', '32m', 'busybox', 'sleep', '1000']);
    const one = await d.api('GET', `/containers/${n}/stats?stream=false&one-shot=true`);
    assert.equal(one.status, 200, one.text);
    const s = one.json;
    assert.equal(s.name, `/${n}`);
    assert.ok(s.memory_stats.usage > 0);
    assert.equal(s.memory_stats.limit, 32 * 1024 * 1024);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(s.pids_stats.current >= 1);
    const cli = await d.dockerOk(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', n], { timeoutMs: 20_000 });
    assert.match(cli, new RegExp(`^${n} [0-9.]+[KMG]iB / 32MiB$`));
  });

  test('container prune removes stopped containers only, honouring label filters', async () => {
    const keep = name('pr-run');
    const gone = name('pr-exit');
    const labelled = name('pr-keep');
    await d.dockerOk(['run', '-d', '--name', keep, 'busybox', 'sleep', '1000']);
    await d.dockerOk(['run', '--name', gone, '--label', 'prune=yes', 'busybox', 'true']);
    await d.dockerOk(['run', '--name', labelled, '--label', 'prune=no', 'busybox', 'true']);
    const res = await d.api('POST', `/containers/prune?filters=${encodeURIComponent(JSON.stringify({ label: ['prune=yes'] }))}`);
    assert.equal(res.status, 200, res.text);
    const goneId = (await d.api('GET', `/containers/${gone}/json`)).status;
    assert.equal(goneId, 404);
    assert.equal(res.json.ContainersDeleted.length, 1);
    assert.equal((await inspect(keep)).State.Status, 'running');
    assert.equal((await inspect(labelled)).State.Status, 'exited');
    await d.dockerOk(['container', 'prune', '-f']);
    assert.equal((await d.api('GET', `/containers/${labelled}/json`)).status, 404);
    assert.equal((await inspect(keep)).State.Status, 'running');
  });
});
