#!/usr/bin/env node
// The full load run (issue 11, item 3), one scenario per invocation so each can run alone on a
// small machine:
//   node dist/test/load/run.js mixed [clients=200] [seconds=60]
//   node dist/test/load/run.js running [count=500]
//   node dist/test/load/run.js created [count=10000]
// Each starts its own daemon on temporary roots (busybox loaded from the test fixtures; mixed
// pulls from a local registry it starts), prints the figures and every error, checks what is
// left, and removes everything. Exits 1 when anything failed or leaked.
import { startDaemon, testRegistry } from '../e2e/harness.js';
import { leftovers } from './leaks.js';
import { createdReport, runCreated, runningReport, runRunning } from './many.js';
import { mixedReport, runMixed } from './mixed.js';

async function main(): Promise<number> {
  const [scenario, a, b] = process.argv.slice(2);
  const d = await startDaemon({ logLevel: 'info' });
  let failed = false;
  try {
    await d.ensureBusybox();
    let ids: string[] = [];
    if (scenario === 'mixed') {
      const registry = await testRegistry();
      try {
        const opts = {
          socket: d.socket,
          daemonPid: d.pid!,
          clients: Number(a ?? 200),
          durationMs: Number(b ?? 60) * 1000,
          registry: registry.host,
          pullEvery: 10,
          bridgeEvery: 10,
          prefix: 'lm',
        };
        const r = await runMixed(opts);
        console.log(mixedReport(opts, r).join('\n'));
        failed = r.errors.length > 0;
        ids = r.created;
      } finally {
        await registry.stop();
      }
    } else if (scenario === 'running') {
      const r = await runRunning(d, Number(a ?? 500), 'lr');
      console.log(runningReport(r).join('\n'));
      failed = r.errors.length > 0;
      ids = r.ids;
    } else if (scenario === 'created') {
      const r = await runCreated(d, Number(a ?? 10_000), 'lc');
      console.log(createdReport(r).join('\n'));
      failed = r.errors.length > 0;
      ids = r.ids;
    } else {
      console.error('usage: run.js mixed [clients] [seconds] | running [count] | created [count]');
      return 2;
    }
    const left = await leftovers(d, ids);
    console.log(`left behind: ${left.length === 0 ? 'nothing' : ''}`);
    for (const l of left.slice(0, 50)) console.log(`  ${l}`);
    failed ||= left.length > 0;
  } finally {
    await d.cleanup();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
