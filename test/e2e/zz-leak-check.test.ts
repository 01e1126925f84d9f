// Runs last (scripts/run-tests.js orders it so): with every test daemon stopped, scan each root
// the harness recorded, without asking any daemon, for mounts, conmon processes, cgroups, runc
// state and container rows left behind. Clean roots are deleted; dirty ones are kept for
// inspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProcesses, leakCheck, leakCount, recordedRoots, ROOTS_RECORD, type Leaks } from './harness.js';

test('no mounts, conmon processes, cgroups, runc state or rows are left by the e2e tests', async () => {
  const bases = await recordedRoots();
  const daemons = await findProcesses(bases.map((b) => join(b, 's.sock')));
  assert.deepEqual(
    daemons.map((p) => p.args),
    [],
    'a test daemon is still running: its file did not call cleanup()',
  );

  const dirty: Record<string, Leaks> = {};
  for (const base of bases) {
    const leaks = await leakCheck(join(base, 'd'), join(base, 'e'));
    // cgroups are not named after roots: report them once, below
    const { cgroups: _, ...own } = leaks;
    if (leakCount({ ...own, cgroups: [] }) > 0) dirty[base] = { ...own, cgroups: [] };
    else await rm(base, { recursive: true, force: true });
  }
  await writeFile(ROOTS_RECORD, Object.keys(dirty).map((b) => `${b}\n`).join(''));
  const anyRoot = bases[0] ?? '/nonexistent';
  const { cgroups } = await leakCheck(join(anyRoot, 'd'), join(anyRoot, 'e'), bases);
  assert.deepEqual({ dirty, cgroups }, { dirty: {}, cgroups: [] }, `leftovers from the e2e tests (roots listed in ${ROOTS_RECORD})`);
});
