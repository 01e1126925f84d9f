import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyResult, probeCommand } from '../../src/engine/monitoring/health.js';

describe('health checks', () => {
  it('turns Test into the probe argv', () => {
    assert.deepEqual(probeCommand(['CMD', 'curl', '-f', 'x']), ['curl', '-f', 'x']);
    assert.deepEqual(probeCommand(['CMD-SHELL', 'exit 1']), ['/bin/sh', '-c', 'exit 1']);
    assert.equal(probeCommand(['NONE']), null);
    assert.equal(probeCommand(undefined), null);
    assert.equal(probeCommand(['CMD']), null);
  });
  it('counts failures to the retries, resets on success, keeps five log entries', () => {
    const r = (exitCode: number) => ({ start: new Date(0), end: new Date(1), exitCode, output: '' });
    let h = { Status: 'starting' as const, FailingStreak: 0, Log: [] } as Parameters<typeof applyResult>[0];
    h = applyResult(h, r(1), { retries: 2, inStartPeriod: false });
    assert.equal(h.Status, 'starting');
    assert.equal(h.FailingStreak, 1);
    h = applyResult(h, r(1), { retries: 2, inStartPeriod: false });
    assert.equal(h.Status, 'unhealthy');
    h = applyResult(h, r(0), { retries: 2, inStartPeriod: false });
    assert.equal(h.Status, 'healthy');
    assert.equal(h.FailingStreak, 0);
    for (let i = 0; i < 6; i++) h = applyResult(h, r(0), { retries: 2, inStartPeriod: false });
    assert.equal(h.Log.length, 5);
  });
  it('ignores failures in the start period until the first success', () => {
    const h = applyResult({ Status: 'starting', FailingStreak: 0, Log: [] }, { start: new Date(0), end: new Date(1), exitCode: 1, output: '' }, { retries: 1, inStartPeriod: true });
    assert.equal(h.Status, 'starting');
    assert.equal(h.FailingStreak, 0);
  });
});
