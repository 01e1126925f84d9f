import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecStore } from '../../src/engine/exec/store.js';

const MIN = 60_000;

describe('exec store (review §10: exec records freed after their process exits)', () => {
  it('drops 100 exited execs of one container once the grace period has passed', () => {
    const store = new ExecStore<{ id: string; containerId: string }>(5 * MIN);
    for (let i = 0; i < 100; i++) store.add({ id: `e${i}`, containerId: 'c1' });
    store.add({ id: 'running', containerId: 'c1' });
    assert.equal(store.liveIds('c1').length, 101);
    const t0 = 1_000_000;
    for (let i = 0; i < 100; i++) store.markExited(`e${i}`, t0 + i);
    // exited: out of the container's ExecIDs at once, still inspectable for the grace period
    assert.deepEqual(store.liveIds('c1'), ['running']);
    assert.equal(store.sweep(t0 + 5 * MIN - 1), 0);
    assert.ok(store.get('e0'));
    assert.equal(store.sweep(t0 + 5 * MIN + 50), 51);
    assert.equal(store.get('e50'), undefined);
    assert.ok(store.get('e51'));
    assert.equal(store.sweep(t0 + 10 * MIN), 49);
    assert.equal(store.size, 1);
    assert.ok(store.get('running'), 'an exec that has not exited stays');
  });

  it('forgets a container and its execs, exited or not', () => {
    const store = new ExecStore<{ id: string; containerId: string }>(MIN);
    store.add({ id: 'a', containerId: 'c1' });
    store.add({ id: 'b', containerId: 'c1' });
    store.add({ id: 'x', containerId: 'c2' });
    store.markExited('a', 0);
    for (const e of store.ofContainer('c1')) store.delete(e.id);
    assert.equal(store.size, 1);
    assert.deepEqual(store.liveIds('c1'), []);
    assert.deepEqual(store.liveIds('c2'), ['x']);
    assert.equal(store.sweep(10 * MIN), 0);
  });

  it('marks an exit once and ignores unknown IDs', () => {
    const store = new ExecStore<{ id: string; containerId: string }>(MIN);
    store.add({ id: 'a', containerId: 'c1' });
    store.markExited('a', 0);
    store.markExited('a', 10 * MIN); // a second report does not extend the grace period
    store.markExited('nope', 0);
    assert.equal(store.sweep(MIN), 1);
  });
});
