import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_MAX_MS, restartDelay, restartsWithDaemon } from '../../src/engine/containers/restart-policy.js';

const facts = (over: Partial<Parameters<typeof restartDelay>[0]>) => ({
  policy: { Name: 'always' as const, MaximumRetryCount: 0 },
  exitCode: 1,
  restartCount: 0,
  manuallyStopped: false,
  ranMs: 50,
  previousDelayMs: 0,
  ...over,
});

describe('restart policy', () => {
  it('never restarts with no policy or after a manual stop', () => {
    assert.equal(restartDelay(facts({ policy: { Name: 'no', MaximumRetryCount: 0 } })), null);
    assert.equal(restartDelay(facts({ policy: { Name: '', MaximumRetryCount: 0 } })), null);
    assert.equal(restartDelay(facts({ manuallyStopped: true })), null);
  });
  it('on-failure restarts non-zero exits up to the maximum', () => {
    const p = { Name: 'on-failure' as const, MaximumRetryCount: 2 };
    assert.equal(restartDelay(facts({ policy: p, exitCode: 0 })), null);
    assert.equal(restartDelay(facts({ policy: p, restartCount: 1 })), 100);
    assert.equal(restartDelay(facts({ policy: p, restartCount: 2 })), null);
    assert.equal(restartDelay(facts({ policy: { Name: 'on-failure', MaximumRetryCount: 0 }, restartCount: 99 })), 100);
  });
  it('backs off by doubling, capped, and resets after a 10 s run', () => {
    assert.equal(restartDelay(facts({ previousDelayMs: 100 })), 200);
    assert.equal(restartDelay(facts({ previousDelayMs: 800 })), 1600);
    assert.equal(restartDelay(facts({ previousDelayMs: BACKOFF_MAX_MS })), BACKOFF_MAX_MS);
    assert.equal(restartDelay(facts({ previousDelayMs: 1600, ranMs: 10_000 })), 100);
  });
  it('decides what comes back with the daemon', () => {
    assert.equal(restartsWithDaemon({ Name: 'always', MaximumRetryCount: 0 }, 0, true), true);
    assert.equal(restartsWithDaemon({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 0, true), false);
    assert.equal(restartsWithDaemon({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 0, false), true);
    assert.equal(restartsWithDaemon({ Name: 'on-failure', MaximumRetryCount: 0 }, 0, false), false);
    assert.equal(restartsWithDaemon({ Name: 'on-failure', MaximumRetryCount: 0 }, 2, false), true);
    assert.equal(restartsWithDaemon({ Name: 'no', MaximumRetryCount: 0 }, 2, false), false);
  });
});
