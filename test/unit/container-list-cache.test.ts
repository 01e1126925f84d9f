import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { newestFirst } from '../../src/engine/containers/filters.js';
import { ListCache } from '../../src/engine/containers/list-cache.js';
import { ZERO_TIME, type ContainerRecord } from '../../src/engine/containers/model.js';
import { statusText } from '../../src/engine/containers/status-text.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import { listView } from '../../src/engine/containers/view.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function record(n: number, labels: Record<string, string> = {}): ContainerRecord {
  return {
    id: n.toString(16).padStart(64, '0'),
    name: `/c${n}`,
    created: new Date(Date.parse('2026-01-01T00:00:00Z') + n * 1000).toISOString(),
    imageId: 'sha256:img',
    imageRef: 'busybox',
    config: { Labels: labels },
    hostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
    state: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
    restartCount: 0,
    path: 'true',
    args: [],
  } as unknown as ContainerRecord;
}

/**
 * A store and a cache over one database; the view also shows a value kept in another table, as
 * the network state is (any write there must void the entries too).
 */
function setup() {
  const db = new Database(':memory:');
  const store = new ContainerStore(db);
  db.exec('CREATE TABLE other (k TEXT PRIMARY KEY, v TEXT)');
  const setOther = db.prepare('INSERT INTO other (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
  const other = new Map<string, string>();
  const cache = new ListCache(() => store.changes());
  let builds = 0;
  const view = (c: ContainerRecord) => ({ ...listView(c, { imageName: c.imageRef }), Other: other.get(c.id) ?? '' });
  const cached = () =>
    JSON.parse(
      cache
        .json(
          cache.newestFirst(store.all()),
          (c) => {
            builds++;
            return view(c);
          },
          NOW,
        )
        .toString(),
    ) as unknown;
  // what the list answered before the cache: every view built now, newest first
  const fresh = () => newestFirst(store.all()).map((c) => ({ ...view(c), Status: statusText(c, NOW) }));
  return {
    store,
    cached,
    fresh,
    builds: () => builds,
    setOther: (id: string, v: string) => {
      setOther.run(id, v);
      other.set(id, v);
    },
  };
}

test('list entries are built once and reused while nothing is written', () => {
  const t = setup();
  for (let i = 1; i <= 3; i++) t.store.insert(record(i, { n: String(i) }));
  assert.deepEqual(t.cached(), t.fresh());
  assert.equal(t.builds(), 3);
  assert.deepEqual(t.cached(), t.fresh());
  assert.equal(t.builds(), 3, 'a second list builds nothing');
  // the JSON keeps the view's key order (Status where listView puts it)
  const keys = Object.keys((t.cached() as object[])[0]!);
  assert.deepEqual(keys, Object.keys(t.fresh()[0]!));
});

test('rename, start, stop, a label-less update, rm and a write elsewhere each show at once', () => {
  const t = setup();
  for (let i = 1; i <= 3; i++) t.store.insert(record(i));
  assert.deepEqual(t.cached(), t.fresh());
  const c = t.store.get(record(2).id)!;

  t.store.rename(c, '/renamed');
  assert.equal((t.cached() as { Names: string[] }[])[1]!.Names[0], '/renamed');
  assert.deepEqual(t.cached(), t.fresh());

  c.state = { ...c.state, Status: 'running', Pid: 42, StartedAt: new Date(NOW - 5 * 60_000).toISOString() };
  t.store.save(c);
  const started = t.cached() as { State: string; Status: string }[];
  assert.equal(started[1]!.State, 'running');
  assert.equal(started[1]!.Status, 'Up 5 minutes');
  assert.deepEqual(started, t.fresh());

  c.state = { ...c.state, Status: 'exited', Pid: 0, ExitCode: 137, FinishedAt: new Date(NOW - 2 * 3_600_000).toISOString() };
  t.store.save(c);
  const stopped = t.cached() as { State: string; Status: string }[];
  assert.equal(stopped[1]!.Status, 'Exited (137) 2 hours ago');
  assert.deepEqual(stopped, t.fresh());

  // docker update changes nothing ps shows, but the entry is rebuilt from the saved record
  const before = t.builds();
  c.hostConfig.RestartPolicy = { Name: 'always', MaximumRetryCount: 0 };
  t.store.save(c);
  assert.deepEqual(t.cached(), t.fresh());
  assert.ok(t.builds() > before, 'a save voids the entries');

  t.setOther(c.id, 'plumbed');
  assert.equal((t.cached() as { Other: string }[])[1]!.Other, 'plumbed');
  assert.deepEqual(t.cached(), t.fresh());

  t.store.delete(c.id);
  assert.deepEqual(
    (t.cached() as { Id: string }[]).map((x) => x.Id),
    [record(3).id, record(1).id],
  );
  assert.deepEqual(t.cached(), t.fresh());

  t.store.insert(record(4));
  assert.equal((t.cached() as { Id: string }[])[0]!.Id, record(4).id, 'a new container lists first');
  assert.deepEqual(t.cached(), t.fresh());
});

test('a running container reused from the cache shows the STATUS of the moment', () => {
  const t = setup();
  const c = record(1);
  c.state = { ...c.state, Status: 'running', Pid: 7, StartedAt: new Date(NOW - 3_000).toISOString() };
  t.store.insert(c);
  const db = t.store;
  const cache = new ListCache(() => db.changes());
  const view = (r: ContainerRecord) => listView(r, { imageName: r.imageRef });
  const at = (now: number) => (JSON.parse(cache.json(db.all(), view, now).toString()) as { Status: string }[])[0]!.Status;
  assert.equal(at(NOW), 'Up 3 seconds');
  assert.equal(at(NOW + 60_000), 'Up About a minute');
});
