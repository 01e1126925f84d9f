// writeLogMessages: log entries go out as Docker sends them (one stdcopy frame per message, a
// partial message its own frame, raw bytes with a TTY), many messages to a write, and a client
// that stops reading stops the reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { LogEntry } from '../../src/engine/logs/index.js';
import { writeLogMessages } from '../../src/api/log-messages.js';
import { decodeFrames } from '../../src/api/stdcopy.js';

const entry = (stream: 'stdout' | 'stderr', data: string | Buffer, partial = false, time = '2026-11-29T15:00:00.000000000Z'): LogEntry => ({
  stream,
  data: Buffer.isBuffer(data) ? data : Buffer.from(data),
  partial,
  time,
  timeNs: 0n,
});

async function* yieldAll(entries: LogEntry[]): AsyncGenerator<LogEntry> {
  for (const e of entries) yield e;
}

/** A Writable that keeps every write apart. */
function recorder(): { out: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      cb();
    },
  });
  return { out, writes };
}

test('one frame per message, in order, stdout and stderr apart, a partial message its own frame', async () => {
  const { out, writes } = recorder();
  const entries = [entry('stdout', 'hello\n'), entry('stdout', 'world\n'), entry('stderr', 'oops\n'), entry('stdout', 'no newline', true), entry('stdout', ' then one\n')];
  await writeLogMessages(yieldAll(entries), out, { tty: false });
  assert.equal(writes.length, 1, 'messages read together share a write');
  const frames = decodeFrames(Buffer.concat(writes));
  assert.deepEqual(
    frames.map((f) => [f.stream, f.payload.toString()]),
    [[1, 'hello\n'], [1, 'world\n'], [2, 'oops\n'], [1, 'no newline'], [1, ' then one\n']],
  );
});

test('timestamps start every message, partial ones included', async () => {
  const { out, writes } = recorder();
  const entries = [entry('stdout', 'a\n', false, '2026-11-29T15:00:00.000000001Z'), entry('stdout', 'b', true, '2026-11-29T15:00:00.000000002Z')];
  await writeLogMessages(yieldAll(entries), out, { tty: false, timestamps: true });
  assert.deepEqual(decodeFrames(Buffer.concat(writes)).map((f) => f.payload.toString()), ['2026-11-29T15:00:00.000000001Z a\n', '2026-11-29T15:00:00.000000002Z b']);
});

test('with a TTY the messages go as bytes, without frames', async () => {
  const { out, writes } = recorder();
  const entries = [entry('stdout', 'a\r\n', false, 'T1'), entry('stdout', 'b', true, 'T2')];
  await writeLogMessages(yieldAll(entries), out, { tty: true });
  assert.equal(Buffer.concat(writes).toString(), 'a\r\nb');
  const stamped = recorder();
  await writeLogMessages(yieldAll(entries), stamped.out, { tty: true, timestamps: true });
  assert.equal(Buffer.concat(stamped.writes).toString(), 'T1 a\r\nT2 b');
});

test('a large log goes out in few large writes, every message framed', async () => {
  const { out, writes } = recorder();
  const line = `${'0123456789'.repeat(10)}\n`;
  const count = 20_000; // 2 MB
  const entries = Array.from({ length: count }, (_, i) => entry(i % 7 === 0 ? 'stderr' : 'stdout', line));
  await writeLogMessages(yieldAll(entries), out, { tty: false });
  const frames = decodeFrames(Buffer.concat(writes));
  assert.equal(frames.length, count);
  assert.ok(frames.every((f, i) => f.stream === (i % 7 === 0 ? 2 : 1) && f.payload.toString() === line));
  assert.ok(writes.length <= Math.ceil((count * (line.length + 8)) / (256 * 1024)) + 1, `${writes.length} writes`);
});

test('a client that stops reading stops the reader; the write ends once it is gone', async () => {
  let pulled = 0;
  async function* endless(): AsyncGenerator<LogEntry> {
    for (;;) {
      pulled += 1;
      yield entry('stdout', `${'x'.repeat(99)}\n`);
    }
  }
  // never acknowledges a write: a client that stopped reading
  const out = new Writable({ highWaterMark: 64 * 1024, write() {} });
  const done = writeLogMessages(endless(), out, { tty: false });
  // let it run until it stops pulling
  let last = -1;
  while (pulled !== last) {
    last = pulled;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }
  assert.ok(pulled * 108 < 1024 * 1024, `pulled ${pulled} messages`);
  out.destroy();
  await done;
});
