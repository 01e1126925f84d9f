import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_BUFFERED_BYTES, streamEvents, type EventSource } from '../../src/api/event-stream.js';
import type { DockerEvent } from '../../src/engine/events/bus.js';
import { EventBus } from '../../src/engine/events/bus.js';
import { setLongTimeout } from '../../src/util/long-timeout.js';

/** An event source the test feeds by hand, with the timestamps it chooses. */
class HandFed implements EventSource {
  private readonly listeners = new Set<(ev: DockerEvent) => void>();
  past(): readonly DockerEvent[] {
    return [];
  }
  subscribe(listener: (ev: DockerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get subscribers(): number {
    return this.listeners.size;
  }
  emit(timeNano: number, padding = 0): void {
    const ev: DockerEvent = {
      Type: 'container',
      Action: 'create',
      Actor: { ID: 'x'.repeat(64), Attributes: { pad: 'p'.repeat(padding) } },
      scope: 'local',
      time: Math.floor(timeNano / 1e9),
      timeNano,
    };
    for (const l of this.listeners) l(ev);
  }
}

/**
 * A real HTTP response on a unix socket whose client connects and never reads, so whatever the
 * server writes piles up in the response.
 */
async function stalledResponse(t: { after(fn: () => void): void }): Promise<ServerResponse> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  const path = join(dir, 'api.sock');
  let resolveRes!: (res: ServerResponse) => void;
  const gotRes = new Promise<ServerResponse>((resolve) => (resolveRes = resolve));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    resolveRes(res);
  });
  server.listen(path);
  await once(server, 'listening');
  const client = connect(path);
  client.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
  client.pause();
  t.after(() => {
    client.destroy();
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return gotRes;
}

test('a client that stops reading does not make the daemon buffer its events without bound', async (t) => {
  const res = await stalledResponse(t);
  const source = new HandFed();
  let dropped = 0;
  void streamEvents(res, source, { match: () => true, onDrop: () => dropped++ });
  // 32 MiB of events at a reader that takes none of them.
  for (let i = 0; i < 32 * 1024; i++) source.emit(Date.now() * 1e6, 1000);
  assert.ok(res.writableLength <= MAX_BUFFERED_BYTES + 2048, `buffered ${res.writableLength} bytes`);
  assert.ok(dropped > 0);
});

test('events arriving after `until` ended the stream are not written (no write after end)', async (t) => {
  const res = await stalledResponse(t);
  const errors: Error[] = [];
  res.on('error', (err) => errors.push(err));
  const source = new HandFed();
  // Fill the socket so that the response's 'finish' waits for a reader that never comes.
  for (let i = 0; i < 8 * 1024; i++) res.write('x'.repeat(1024));
  const until = (Date.now() + 20) * 1e6;
  const over = streamEvents(res, source, { until, match: () => true });
  await new Promise<void>((resolve) => {
    const poll = () => (res.writableEnded ? resolve() : setImmediate(poll));
    poll();
  });
  assert.equal(res.writableFinished, false, 'the response is still flushing');
  // An event stamped before `until`, delivered after the timer fired (libuv's clock lags the event clock).
  source.emit(until - 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
  assert.equal(source.subscribers, 0, 'the until timer unsubscribed');
  await over;
});

test('`until` beyond setTimeout\'s 24.8-day limit keeps the stream open', async (t) => {
  const res = await stalledResponse(t);
  const bus = new EventBus();
  const until = (Date.now() + 100 * 24 * 3600 * 1000) * 1e6;
  const over = streamEvents(res, bus, { until, match: () => true });
  // Node clamps an overlong delay to 1 ms: give such a timer every chance to fire.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(res.writableEnded, false);
  const before = res.writableLength;
  bus.emit('container', 'create', 'abc');
  assert.ok(res.writableLength > before, 'the live event was written');
  res.destroy();
  await over;
});

test('setLongTimeout fires for short delays and can be cancelled for long ones', async () => {
  await new Promise<void>((resolve) => setLongTimeout(resolve, 5));
  let fired = false;
  const cancel = setLongTimeout(() => (fired = true), 2 ** 31 + 10);
  await new Promise((resolve) => setTimeout(resolve, 5));
  cancel();
  assert.equal(fired, false);
});
