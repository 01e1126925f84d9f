import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import { ZERO_TIME, type ContainerRecord } from '../../src/engine/containers/model.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import { ContainerService, type ContainerServiceDeps } from '../../src/engine/containers/service.js';
import { EventBus } from '../../src/engine/events/bus.js';

const ID = 'a'.repeat(64);

/** A ContainerService over a real (in-memory) store; wait touches nothing else. */
function service(): { containers: ContainerService; signals: EventEmitter } {
  const store = new ContainerStore(new Database(':memory:'));
  store.insert({
    id: ID,
    name: '/web',
    created: '2026-01-01T00:00:00Z',
    imageId: 'sha256:img',
    imageRef: 'busybox',
    config: { Labels: {} },
    hostConfig: {},
    state: { Status: 'running', Pid: 1, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: '2026-01-01T00:00:01Z', FinishedAt: ZERO_TIME },
    restartCount: 0,
  } as unknown as ContainerRecord);
  const unused = {} as never;
  const deps: ContainerServiceDeps = {
    store,
    images: unused,
    snapshots: unused,
    backend: { onExit: () => undefined } as never,
    events: new EventBus(),
    logger: pino({ level: 'silent' }),
    dataRoot: '/nonexistent',
    runtimes: {},
    defaultRuntime: 'runc',
    networking: unused,
    volumes: unused,
  };
  const containers = new ContainerService(deps);
  return { containers, signals: (containers as unknown as { signals: EventEmitter }).signals };
}

const listeners = (signals: EventEmitter) => signals.listenerCount(`exit:${ID}`) + signals.listenerCount(`removed:${ID}`);

test('waits whose client went away leave no listeners behind (review §11)', async () => {
  const { containers, signals } = service();
  const outcomes: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    const gone = new AbortController();
    const wait = containers.waiter(ID, i % 2 ? 'removed' : 'next-exit', gone.signal);
    outcomes.push(wait().then(() => 'answered', () => 'cancelled'));
    gone.abort();
  }
  assert.deepEqual(new Set(await Promise.all(outcomes)), new Set(['cancelled']));
  assert.equal(listeners(signals), 0);
});

test('a wait still answers at exit, and leaves no listeners after', async () => {
  const { containers, signals } = service();
  const gone = new AbortController();
  const wait = containers.waiter(ID, 'not-running', gone.signal);
  assert.equal(listeners(signals), 2);
  signals.emit(`exit:${ID}`);
  assert.deepEqual(await wait(), { StatusCode: 0 });
  assert.equal(listeners(signals), 0);
  gone.abort();
  const removed = containers.waiter(ID, 'removed');
  signals.emit(`exit:${ID}`);
  assert.equal(listeners(signals), 1, 'a removed wait is not answered by an exit');
  signals.emit(`removed:${ID}`);
  await removed();
  assert.equal(listeners(signals), 0);
});
