// Races (issue 3, item 9): operations fired at a container while it starts or while it is being
// removed, parallel removes, many `docker run --rm` at once. Each request gets one of the
// answers Docker could give, with Docker's message; afterwards nothing is leaked and the daemon
// still answers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, leakCheck, leakCount, type ApiResult } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUNDS = 6;

describe('races', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  /** The status is one of the allowed ones, and an error carries a message that matches. */
  const expectOneOf = (what: string, r: ApiResult, allowed: Record<number, RegExp | null>) => {
    assert.ok(r.status in allowed, `${what}: unexpected ${r.status} ${r.text}`);
    const re = allowed[r.status];
    if (re) assert.match(String(r.json?.message), re, `${what}: ${r.status} ${r.text}`);
  };

  const create = async (name: string, cmd = ['sleep', '1000'], extra: Record<string, unknown> = {}) => {
    const r = await d().api('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: cmd, ...extra });
    assert.equal(r.status, 201, r.text);
    return r.json.Id as string;
  };

  const alive = async () => {
    assert.equal(d().running, true, 'the daemon is alive');
    assert.equal((await d().api('GET', '/_ping')).status, 200);
  };

  /** Nothing of these containers is left: rows, runc state, mounts, conmon, cgroups. */
  const noLeaks = async (ids: string[]) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const l = await leakCheck(d().dataRoot, d().execRoot);
      const mine = {
        mounts: l.mounts.filter((m) => ids.some((id) => m.includes(id))),
        conmons: l.conmons.filter((c) => ids.some((id) => c.includes(id))),
        cgroups: l.cgroups.filter((g) => ids.some((id) => g.endsWith(id))),
        runcState: l.runcState.filter((s) => ids.some((id) => s.endsWith(id))),
        rows: l.rows.filter((r) => ids.some((id) => r.startsWith(id))),
      };
      if (leakCount(mine) === 0) return;
      if (Date.now() > deadline) assert.fail(`left behind: ${JSON.stringify(mine)}`);
      await sleep(100);
    }
  };

  const NOT_RUNNING = /Container [0-9a-f]{64} is not running|is not running/;
  const NO_SUCH = /No such container/;

  test('stop, kill, exec and rm fired while the container starts', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = f.name(`mid-start-${i}`);
      const id = await create(name);
      ids.push(id);
      const [start, stop, kill, exec, rm] = await Promise.all([
        d().api('POST', `/containers/${name}/start`),
        d().api('POST', `/containers/${name}/stop?t=1`),
        d().api('POST', `/containers/${name}/kill`),
        d().api('POST', `/containers/${name}/exec`, { Cmd: ['true'] }),
        d().api('DELETE', `/containers/${name}`),
      ]);
      expectOneOf('start', start, { 204: null, 404: NO_SUCH, 409: /marked for removal|removal .* in progress|cannot start/i });
      expectOneOf('stop', stop, { 204: null, 304: null, 404: NO_SUCH });
      expectOneOf('kill', kill, { 204: null, 409: NOT_RUNNING, 404: NO_SUCH });
      expectOneOf('exec', exec, { 201: null, 409: NOT_RUNNING, 404: NO_SUCH });
      expectOneOf('rm', rm, {
        204: null,
        404: NO_SUCH,
        409: /cannot remove container "\/mid-start-\d+": container is running: stop the container before removing or force remove|removal of container .* is already in progress/,
      });
      // whatever happened, the container is in one consistent state: gone, or created/running/exited
      const c = await d().api('GET', `/containers/${name}/json`);
      if (rm.status === 204) assert.equal(c.status, 404);
      else {
        assert.equal(c.status, 200);
        assert.ok(['created', 'running', 'exited'].includes(c.json.State.Status), c.json.State.Status);
        if (c.json.State.Status === 'running') assert.ok(c.json.State.Pid > 0);
      }
      await alive();
    }
    for (const id of ids) await d().api('DELETE', `/containers/${id}?force=1`);
    await noLeaks(ids);
  });

  test('parallel removes of one container: exactly one 204', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = f.name(`par-rm-${i}`);
      ids.push(await create(name));
      assert.equal((await d().api('POST', `/containers/${name}/start`)).status, 204);
      const results = await Promise.all(Array.from({ length: 5 }, () => d().api('DELETE', `/containers/${name}?force=1`)));
      const ok = results.filter((r) => r.status === 204);
      assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.text}`).join('; '));
      for (const r of results.filter((x) => x.status !== 204)) {
        expectOneOf('rm', r, { 404: NO_SUCH, 409: /removal of container [0-9a-f]{64} is already in progress/ });
      }
      assert.equal((await d().api('GET', `/containers/${name}/json`)).status, 404);
      await alive();
    }
    await noLeaks(ids);
  });

  test('start, stop, kill, exec, rm and resize while the container is being removed', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = f.name(`mid-rm-${i}`);
      ids.push(await create(name, ['sleep', '1000'], { Tty: true }));
      assert.equal((await d().api('POST', `/containers/${name}/start`)).status, 204);
      const removal = d().api('DELETE', `/containers/${name}?force=1`);
      const others = await Promise.all([
        d().api('POST', `/containers/${name}/start`),
        d().api('POST', `/containers/${name}/stop?t=1`),
        d().api('POST', `/containers/${name}/kill`),
        d().api('POST', `/containers/${name}/exec`, { Cmd: ['true'] }),
        d().api('POST', `/containers/${name}/resize?h=10&w=10`),
      ]);
      assert.equal((await removal).status, 204);
      const [start, stop, kill, exec, resize] = others;
      expectOneOf('start', start!, { 204: null, 304: null, 404: NO_SUCH, 409: /marked for removal|removal .* in progress/i });
      expectOneOf('stop', stop!, { 204: null, 304: null, 404: NO_SUCH, 409: /removal .* in progress/ });
      expectOneOf('kill', kill!, { 204: null, 404: NO_SUCH, 409: NOT_RUNNING });
      expectOneOf('exec', exec!, { 201: null, 404: NO_SUCH, 409: /is not running|is paused|marked for removal|removal .* in progress/ });
      expectOneOf('resize', resize!, { 200: null, 404: NO_SUCH, 409: NOT_RUNNING });
      assert.equal((await d().api('GET', `/containers/${name}/json`)).status, 404);
      await alive();
    }
    await noLeaks(ids);
  });

  test('resize of an exec whose process has exited', async () => {
    const name = f.name('dead-exec');
    await d().dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
    const ex = await d().api('POST', `/containers/${name}/exec`, { Cmd: ['true'], Tty: true });
    assert.equal(ex.status, 201, ex.text);
    const st = await d().api('POST', `/exec/${ex.json.Id}/start`, { Detach: true, Tty: true });
    assert.equal(st.status, 200, st.text);
    await (async () => {
      for (let i = 0; i < 200; i++) {
        const r = await d().api('GET', `/exec/${ex.json.Id}/json`);
        if (r.json?.Running === false && r.json?.ExitCode !== null) return;
        await sleep(50);
      }
      assert.fail('exec did not finish');
    })();
    const r = await d().api('POST', `/exec/${ex.json.Id}/resize?h=10&w=10`);
    expectOneOf('resize of a dead exec', r, { 409: /is not running/, 200: null });
    assert.equal((await d().api('POST', '/exec/no-such-exec/resize?h=1&w=1')).status, 404);
    await alive();
  });

  test('concurrent creates without a name get distinct generated names', { timeout: 120_000 }, async () => {
    // busybox's 1600 generated names: 40 at once collided often before names were reserved
    const made = await Promise.all(Array.from({ length: 40 }, () => d().api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] })));
    for (const r of made) assert.equal(r.status, 201, r.text);
    const ids = made.map((r) => r.json.Id as string);
    const names = await Promise.all(ids.map(async (id) => (await d().api('GET', `/containers/${id}/json`)).json.Name as string));
    assert.equal(new Set(names).size, names.length, names.join(' '));
    for (const id of ids) assert.equal((await d().api('DELETE', `/containers/${id}`)).status, 204);
    await noLeaks(ids);
  });

  test('many concurrent docker run --rm', { timeout: 180_000 }, async () => {
    const N = 16;
    const runs = await Promise.all(
      Array.from({ length: N }, (_, i) => d().docker(['run', '--rm', '--name', f.name(`par-run-${i}`), 'busybox', 'sh', '-c', `echo run-${i}; exit ${i % 4}`], { timeoutMs: 120_000 })),
    );
    runs.forEach((r, i) => {
      assert.equal(r.code, i % 4, r.stderr);
      assert.equal(r.stdout, `run-${i}\n`);
    });
    const deadline = Date.now() + 20_000;
    let left: any[] = [];
    do {
      left = ((await d().api('GET', '/containers/json?all=1')).json as any[]).filter((c) => c.Names.some((n: string) => n.startsWith('/par-run-')));
      if (left.length === 0) break;
      await sleep(100);
    } while (Date.now() < deadline);
    assert.deepEqual(left, [], '--rm removed every container');
    await alive();
  });
});
