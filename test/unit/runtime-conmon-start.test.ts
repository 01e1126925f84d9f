import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConmonBackend } from '../../src/runtime/conmon-backend.js';
import { SystemError } from '../../src/errors.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// Review §16: the start pipe had no 'error' listener. A conmon that never runs closes it before
// berth's write: EPIPE, an uncaught exception that took the whole daemon down.
test('a conmon that cannot start is a create error, not an uncaught EPIPE on the start pipe', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-conmon-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const backend = new ConmonBackend({ execRoot: join(root, 'e'), logger: quiet, conmonPath: join(root, 'no-such-conmon') });
  t.after(() => backend.close());
  const bundle = join(root, 'bundle');
  mkdirSync(bundle);
  await assert.rejects(
    backend.create({
      id: 'c'.repeat(64),
      bundle,
      spec: {} as never,
      logPath: join(bundle, 'log'),
      stdin: false,
      terminal: false,
      runtime: { name: 'runc', path: 'runc', args: [] },
    }),
    (err: unknown) => err instanceof SystemError && /^starting conmon: spawn .* ENOENT$/.test(err.message),
  );
  // The EPIPE is emitted on a later tick: the test must survive it.
  await new Promise((resolve) => setImmediate(resolve));
});
