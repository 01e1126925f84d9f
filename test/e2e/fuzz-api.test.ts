// The short API fuzz run of `npm test` (the long one is `npm run fuzz`): the regression
// requests, then 1,000 requests generated from openapi.yaml with a fixed seed, then the raw
// HTTP abuse, against one daemon with targets made first (test/fuzz/). The daemon must live,
// log no unhandled rejection, answer no 5xx that dockerd would answer with a 4xx, come back
// near its baseline RSS, and leave nothing behind once everything is removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { startDaemon, leakCheck, type Daemon } from './harness.js';
import { networkLeaks } from './net-harness.js';
import { REGRESSIONS } from '../fuzz/regressions.js';
import { dataRootResidue, removeEverything } from '../fuzz/residue.js';
import { formatSummary, runFuzz, type FuzzSummary } from '../fuzz/runner.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);
/** RSS may end this much above its baseline (V8 keeps some heap it grew; a leak grows with the run). */
const RSS_SLACK_KIB = 64 * 1024;

describe(`API fuzz, seed ${SEED}, ${COUNT} requests`, () => {
  let d: Daemon;
  let s: FuzzSummary;
  before(async () => {
    d = await startDaemon({ logLevel: 'info' });
    s = await runFuzz(d, { seed: SEED, count: COUNT, regressions: REGRESSIONS, holdMs: 2000 });
    console.log(formatSummary(s));
  });
  after(async () => {
    await d?.cleanup();
  });

  test('the daemon lives through it and logs no unhandled rejection', () => {
    assert.equal(s.daemonAlive, true);
    assert.equal(s.unhandledRejections, 0);
    assert.equal(s.sent, COUNT + REGRESSIONS.length);
  });

  test('no 5xx but the explained ones (dockerd answers those with a 5xx too)', () => {
    assert.deepEqual(s.serverErrors.filter((e) => !e.explained), []);
  });

  test('raw HTTP abuse: truncated, huge, slow, pipelined, unread and half-closed clients', () => {
    assert.ok(s.abuse.length >= 20);
    assert.deepEqual(s.abuse.filter((a) => a.problem), []);
  });

  test(`daemon RSS ends within ${RSS_SLACK_KIB / 1024} MiB of its baseline`, () => {
    assert.ok(s.rssAfterKiB <= s.rssBeforeKiB + RSS_SLACK_KIB, `RSS ${s.rssBeforeKiB} KiB before, ${s.rssAfterKiB} KiB after`);
  });

  test('once everything is removed: no files, rows, mounts, processes, netns, veths or rules left', async () => {
    // the ids of every container the run made, for their cgroups (not named after the roots)
    const ev = await d.api('GET', `/events?since=0&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent('{"type":["container"]}')}`);
    const ids = new Set(ev.text.split('\n').filter(Boolean).map((l) => String(JSON.parse(l).Actor?.ID)).filter((id) => /^[0-9a-f]{64}$/.test(id)));
    assert.deepEqual(await removeEverything(d), []);
    assert.deepEqual(await dataRootResidue(d.dataRoot), []);
    const leaks = await leakCheck(d.dataRoot, d.execRoot);
    assert.deepEqual({ ...leaks, cgroups: [] }, { mounts: [], conmons: [], cgroups: [], runcState: [], rows: [], network: [], volumeMounts: [] });
    const cgroups = [...ids].flatMap((id) => ['/sys/fs/cgroup/berth', '/sys/fs/cgroup/memory/berth', '/sys/fs/cgroup/pids/berth'].map((r) => `${r}/${id}`)).filter((p) => existsSync(p));
    assert.deepEqual(cgroups, []);
  });

  test('a client that never closes its attach after the daemon ended it does not stop a clean shutdown', async () => {
    await d.ensureBusybox(); // the test before removed every image
    const made = await d.api('POST', '/containers/create?name=fz-held', { Image: 'busybox', Cmd: ['sleep', '1000'], OpenStdin: true });
    assert.equal(made.status, 201, made.text);
    assert.equal((await d.api('POST', '/containers/fz-held/start')).status, 204);
    // allowHalfOpen: the daemon's end of the attach does not make this client end its side
    const held = connect({ path: d.socket, allowHalfOpen: true });
    held.on('error', () => undefined);
    held.write('POST /containers/fz-held/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await once(held, 'data');
    // the container goes: the daemon half-closes the attach, this client never closes its side
    assert.equal((await d.api('DELETE', '/containers/fz-held?force=1')).status, 204);
    try {
      await d.stop('SIGTERM');
      // stopped without its forced exit: the default bridge, its anchor and its rules went with it
      assert.deepEqual(await networkLeaks(d.base), []);
    } finally {
      held.destroy();
    }
  });
});
