// Verbs racing a container's exit (issue 8, item 2): each verb that acts on a running container
// is fired right after the start of a container running `true` or `sleep 0.05`, so that the
// container exits before, during or after the call. Every answer must be one Docker gives for
// the state the container reached (moby 28's text), never a 500.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { tarOf } from '../fixtures/tar-of.js';
import { daemonForFile, type ApiResult } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Rounds per verb, half against `true`, half against `sleep 0.05`. */
const ROUNDS = 30;

describe('verbs racing a container exit', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  /** How often each verb got each status, reported as a diagnostic: which races a run met. */
  const seen = new Map<string, number>();
  const expectOneOf = (what: string, r: ApiResult, allowed: Record<number, RegExp | null>) => {
    seen.set(`${what} ${r.status}`, (seen.get(`${what} ${r.status}`) ?? 0) + 1);
    assert.ok(r.status in allowed, `${what}: unexpected ${r.status} ${r.text}`);
    const re = allowed[r.status];
    if (re) assert.match(String(r.json?.message), re, `${what}: ${r.status} ${r.text}`);
  };

  /** moby 28's errNotRunning / GetRunningTask text. */
  const notRunning = (id: string) => new RegExp(`^container ${id} is not running$`);

  /**
   * Two containers (`true`, `sleep 0.05`); each round starts one, waits a round-dependent few
   * milliseconds (0 to 40) and fires `verb`, then waits for the exit before the next round.
   */
  const hammer = async (t: TestContext, tag: string, verb: (id: string, round: number) => Promise<void>, extra: Record<string, unknown> = {}) => {
    const ids: string[] = [];
    for (const cmd of [['true'], ['sleep', '0.05']]) {
      const r = await d().api('POST', `/containers/create?name=${f.name(`${tag}-${cmd[0]}`)}`, { Image: 'busybox', Cmd: cmd, ...extra });
      assert.equal(r.status, 201, r.text);
      ids.push(r.json.Id as string);
    }
    for (let i = 0; i < ROUNDS; i++) {
      const id = ids[i % 2]!;
      const started = await d().api('POST', `/containers/${id}/start`);
      assert.equal(started.status, 204, started.text);
      const delay = Math.floor(i / 2) % 5;
      if (delay > 0) await sleep(delay * 10);
      await verb(id, i);
      const waited = await d().api('POST', `/containers/${id}/wait`, undefined, { timeoutMs: 30_000 });
      assert.equal(waited.status, 200, waited.text);
    }
    assert.equal((await d().api('GET', '/_ping')).status, 200);
    t.diagnostic([...seen].map(([k, n]) => `${k}: ${n}`).join(', '));
    seen.clear();
  };

  test('commit (pausing by default) succeeds whatever state the container reaches', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'commit', async (id, i) => {
      const r = await d().api('POST', `/commit?container=${id}&repo=exit-race-commit&tag=r${i}`);
      assert.equal(r.status, 201, `commit round ${i}: ${r.status} ${r.text}`);
      assert.match(r.json.Id, /^sha256:[0-9a-f]{64}$/);
    });
    // the commit left nothing frozen: a paused container would never have exited above
    const imgs = await d().api('GET', '/images/json?filters=' + encodeURIComponent(JSON.stringify({ reference: ['exit-race-commit'] })));
    assert.equal(imgs.status, 200);
    for (const img of imgs.json as any[]) await d().api('DELETE', `/images/${img.Id}?force=1`);
  });

  test('pause and unpause', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'pause', async (id) => {
      const p = await d().api('POST', `/containers/${id}/pause`);
      expectOneOf('pause', p, { 204: null, 409: notRunning(id) });
      const u = await d().api('POST', `/containers/${id}/unpause`);
      // A freeze can land on a process that is already exiting: its exit still arrives, and the
      // container is no longer paused. berth answers moby's "not paused" (a 500 there) as a 409.
      const notPaused = new RegExp(`^Container ${id} is not paused$`);
      expectOneOf('unpause', u, p.status === 204 ? { 204: null, 409: notPaused } : { 409: notPaused });
    });
  });

  test('exec create and start', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'exec', async (id, i) => {
      const body = i % 4 < 2 ? { Cmd: ['true'] } : { Cmd: ['id'], User: 'nobody' };
      const c = await d().api('POST', `/containers/${id}/exec`, body);
      expectOneOf('exec create', c, { 201: null, 409: notRunning(id) });
      if (c.status !== 201) return;
      const s = await d().api('POST', `/exec/${c.json.Id}/start`, { Detach: true });
      // moby drops a container's execs when it exits: a start after that finds no exec
      expectOneOf('exec start', s, { 200: null, 409: notRunning(id), 404: new RegExp(`^No such exec instance: ${c.json.Id}$`) });
      const ins = await d().api('GET', `/exec/${c.json.Id}/json`);
      // a started exec stays inspectable; one whose container went first may be gone with it
      expectOneOf('exec inspect', ins, { 200: null, 404: /No such exec instance/ });
      if (s.status === 409 && ins.status === 200) {
        assert.equal(ins.json.Running, false);
        assert.equal(ins.json.ExitCode, 126, 'moby: an exec that could not start records 126');
      }
    });
  });

  test('attached exec through the CLI', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'exec-cli', async (id) => {
      const r = await d().docker(['exec', id, 'true']);
      seen.set(`docker exec ${r.code}`, (seen.get(`docker exec ${r.code}`) ?? 0) + 1);
      // 0: it ran; 137: it ran and the kernel killed it with the container's init; 1: the create
      // found the container stopped, or the start found the exec gone with it (a 404 before the
      // upgrade, as moby's ExecExists answers); 126: the start found it stopped (moby's default
      // code for an exec that could not start, the error in the stream)
      assert.ok([0, 137, 1, 126].includes(r.code), `docker exec: ${r.code} ${r.stdout}${r.stderr}`);
      if (r.code === 126) assert.match(r.stdout + r.stderr, new RegExp(`container ${id} is not running`));
      if (r.code === 1) assert.match(r.stdout + r.stderr, new RegExp(`container ${id} is not running|unable to upgrade to tcp, received 404`));
    });
  });

  test('cp out, cp in and export', { timeout: 180_000 }, async (t) => {
    const upload = await tarOf([{ header: { name: 'raced.txt' }, body: 'x' }]);
    await hammer(t, 'cp', async (id, i) => {
      const stat = await d().api('HEAD', `/containers/${id}/archive?path=/etc/hostname`);
      expectOneOf('cp stat', stat, { 200: null });
      const out = await d().api('GET', `/containers/${id}/archive?path=/etc/passwd`);
      expectOneOf('cp out', out, { 200: null });
      const put = await d().api('PUT', `/containers/${id}/archive?path=/tmp`, upload, { headers: { 'content-type': 'application/x-tar' } });
      expectOneOf('cp in', put, { 200: null });
      if (i % 3 === 0) {
        const ex = await d().api('GET', `/containers/${id}/export`);
        expectOneOf('export', ex, { 200: null });
      }
    });
  });

  test('top and stats', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'top', async (id, i) => {
      const top = await d().api('GET', `/containers/${id}/top`);
      expectOneOf('top', top, { 200: null, 409: notRunning(id) });
      const s = await d().api('GET', `/containers/${id}/stats?stream=0${i % 2 ? '&one-shot=1' : ''}`);
      expectOneOf('stats', s, { 200: null });
    });
  });

  test('kill: SIGKILL and a signal the process ignores', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'kill', async (id, i) => {
      const sig = i % 4 < 2 ? '' : '?signal=SIGWINCH';
      const k = await d().api('POST', `/containers/${id}/kill${sig}`);
      expectOneOf('kill', k, { 204: null, 409: new RegExp(`^Cannot kill container: ${id}: container ${id} is not running$`) });
    });
  });

  test('resize of a TTY container', { timeout: 180_000 }, async (t) => {
    await hammer(
      t,
      'resize',
      async (id) => {
        const r = await d().api('POST', `/containers/${id}/resize?h=20&w=60`);
        expectOneOf('resize', r, { 200: null, 409: notRunning(id) });
      },
      { Tty: true },
    );
  });

  test('update: stored whether or not the container still runs', { timeout: 180_000 }, async (t) => {
    await hammer(t, 'update', async (id, i) => {
      const shares = 512 + i;
      const u = await d().api('POST', `/containers/${id}/update`, { CpuShares: shares });
      expectOneOf('update', u, { 200: null });
      const ins = await d().api('GET', `/containers/${id}/json`);
      assert.equal(ins.json.HostConfig.CpuShares, shares);
    });
  });
});
