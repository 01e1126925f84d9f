// Load, short form (issue 11, item 3): the harness of test/load at CI size: 20 clients in the
// mixed workload (with pulls from the test registry) for 10 s, 50 running containers, 500
// created ones across a daemon restart. It asserts that nothing failed and nothing is left;
// its figures are printed, never asserted (the full run is `node dist/test/load/run.js`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, testRegistry, type Daemon } from './harness.js';
import { leftovers } from '../load/leaks.js';
import { mixedReport, runMixed } from '../load/mixed.js';
import { createdReport, runCreated, runningReport, runRunning } from '../load/many.js';

describe('load (short form)', () => {
  let d: Daemon;
  let registry: { host: string; stop(): Promise<void> };
  before(async () => {
    d = await startDaemon({ logLevel: 'info' });
    await d.ensureBusybox();
    registry = await testRegistry();
  });
  after(async () => {
    await registry?.stop();
    await d?.cleanup();
  });

  test('20 clients in a mixed workload for 10 s: no errors, nothing left', { timeout: 300_000 }, async () => {
    const opts = { socket: d.socket, daemonPid: d.pid!, clients: 20, durationMs: 10_000, registry: registry.host, pullEvery: 5, bridgeEvery: 4, prefix: 'lm' };
    const r = await runMixed(opts);
    console.log(mixedReport(opts, r).join('\n'));
    assert.deepEqual(r.errors, []);
    assert.ok(r.cycles >= 20, `each client finished a cycle (${r.cycles} cycles)`);
    assert.deepEqual(await leftovers(d, r.created), []);
  });

  test('50 running containers: each start seen by an events stream, ps lists them, all removed', { timeout: 300_000 }, async () => {
    const r = await runRunning(d, 50, 'lr', 5);
    console.log(runningReport(r).join('\n'));
    assert.deepEqual(r.errors, []);
    assert.equal(r.startsSeen, 50);
    assert.equal(r.conmons, 50);
    assert.deepEqual(await leftovers(d, r.ids), []);
  });

  test('500 created containers: ps -a lists them before and after a restart, all removed', { timeout: 300_000 }, async () => {
    const r = await runCreated(d, 500, 'lc', 5);
    console.log(createdReport(r).join('\n'));
    assert.deepEqual(r.errors, []);
    assert.equal(r.listedAfterRestart, 500);
    assert.deepEqual(await leftovers(d, r.ids), []);
  });
});
