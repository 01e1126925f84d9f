import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterContainers, labelMatches } from '../../src/engine/containers/filters.js';
import { ZERO_TIME, type ContainerRecord } from '../../src/engine/containers/model.js';
import { normaliseContainerName, randomContainerName } from '../../src/engine/containers/names.js';
import { parseSignal } from '../../src/engine/containers/signals.js';
import { humanDuration, statusText } from '../../src/engine/containers/status-text.js';

describe('signals', () => {
  it('parses names, SIG names and numbers', () => {
    assert.equal(parseSignal('TERM'), 15);
    assert.equal(parseSignal('SIGKILL'), 9);
    assert.equal(parseSignal('int'), 2);
    assert.equal(parseSignal('10'), 10);
    assert.equal(parseSignal('SIGRTMIN+1'), 35);
    assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
    assert.throws(() => parseSignal('99'), /Invalid signal/);
  });
});

describe('names', () => {
  it('validates and stores with a leading slash', () => {
    assert.equal(normaliseContainerName('web'), '/web');
    assert.equal(normaliseContainerName('/web.1_a-b'), '/web.1_a-b');
    assert.throws(() => normaliseContainerName('a'), /Invalid container name \(a\)/);
    assert.throws(() => normaliseContainerName('-x'), /Invalid container name/);
    assert.throws(() => normaliseContainerName('a b'), /Invalid container name/);
    assert.match(randomContainerName(0), /^\/[a-z]+_[a-z]+$/);
  });
});

describe('status text', () => {
  it('renders docker ps STATUS', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(45_000), '45 seconds');
    assert.equal(humanDuration(90_000), 'About a minute');
    assert.equal(humanDuration(5 * 60_000), '5 minutes');
    assert.equal(humanDuration(3_600_000), 'About an hour');
    assert.equal(humanDuration(3 * 3_600_000), '3 hours');
    const now = Date.parse('2026-01-01T00:10:00Z');
    const c = record('a', { Status: 'exited', ExitCode: 3, FinishedAt: '2026-01-01T00:05:00Z' });
    assert.equal(statusText(c, now), 'Exited (3) 5 minutes ago');
    assert.equal(statusText(record('b', { Status: 'running', StartedAt: '2026-01-01T00:09:58Z' }), now), 'Up 2 seconds');
    assert.equal(statusText(record('c', {}), now), 'Created');
  });
});

describe('container filters', () => {
  const cs = [
    record('aaa1', { Status: 'running' }, '/web', { app: 'x' }, '2026-01-01T00:00:01Z'),
    record('bbb2', { Status: 'exited', ExitCode: 3 }, '/db', { app: 'y' }, '2026-01-01T00:00:02Z'),
    record('ccc3', { Status: 'created' }, '/cache', {}, '2026-01-01T00:00:03Z'),
  ];
  const opts = (filters: Record<string, string[]>, all = true, limit = -1) => ({
    all,
    limit,
    filters: new Map(Object.entries(filters)),
    imageId: (ref: string) => (ref === 'busybox' ? 'sha256:img' : undefined),
    container: (ref: string) => cs.find((c) => c.name === `/${ref}`)!,
  });
  const ids = (r: ContainerRecord[]) => r.map((c) => c.id);

  it('shows running ones unless all', () => {
    assert.deepEqual(ids(filterContainers(cs, opts({}, false))), ['aaa1']);
    assert.deepEqual(ids(filterContainers(cs, opts({}))), ['ccc3', 'bbb2', 'aaa1']);
  });
  it('filters by status, exited, label, name, id, ancestor, before/since, limit', () => {
    assert.deepEqual(ids(filterContainers(cs, opts({ status: ['exited'] }, false))), ['bbb2']);
    assert.deepEqual(ids(filterContainers(cs, opts({ exited: ['3'] }, false))), ['bbb2']);
    assert.deepEqual(ids(filterContainers(cs, opts({ label: ['app=x'] }))), ['aaa1']);
    assert.deepEqual(ids(filterContainers(cs, opts({ label: ['app'] }))), ['bbb2', 'aaa1']);
    assert.deepEqual(ids(filterContainers(cs, opts({ name: ['db'] }))), ['bbb2']);
    assert.deepEqual(ids(filterContainers(cs, opts({ id: ['ccc'] }))), ['ccc3']);
    assert.deepEqual(ids(filterContainers(cs, opts({ ancestor: ['busybox'] }))).length, 3);
    assert.deepEqual(ids(filterContainers(cs, opts({ ancestor: ['other'] }))), []);
    assert.deepEqual(ids(filterContainers(cs, opts({ before: ['cache'] }))), ['bbb2', 'aaa1']);
    assert.deepEqual(ids(filterContainers(cs, opts({ since: ['web'] }))), ['ccc3', 'bbb2']);
    assert.deepEqual(ids(filterContainers(cs, opts({}, false, 1))), ['ccc3']);
  });
  it('rejects unknown keys and statuses', () => {
    assert.throws(() => filterContainers(cs, opts({ bogus: ['1'] })), /invalid filter 'bogus'/);
    assert.throws(() => filterContainers(cs, opts({ status: ['sleepy'] })), /invalid filter 'status=sleepy'/);
  });
  it('matches labels with = and !=', () => {
    assert.ok(labelMatches({ a: '1' }, 'a!=2'));
    assert.ok(!labelMatches({ a: '1' }, 'a!=1'));
  });
});

function record(id: string, state: Partial<ContainerRecord['state']>, name = `/${id}`, labels: Record<string, string> = {}, created = '2026-01-01T00:00:00Z'): ContainerRecord {
  return {
    id,
    name,
    created,
    imageId: 'sha256:img',
    imageRef: 'busybox',
    config: { Labels: labels } as ContainerRecord['config'],
    hostConfig: {} as ContainerRecord['hostConfig'],
    state: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, ...state },
    restartCount: 0,
    path: 'sh',
    args: [],
  };
}
