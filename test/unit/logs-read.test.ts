import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, appendFile, writeFile, rename, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogs, type LogEntry, type ReadLogsOptions } from '../../src/engine/logs/index.js';

const BASE_NS = 1_764_341_285_000_000_000n; // 2025-11-28T14:48:05Z
const CONMON_BUF = 8192;

function k8sTime(ns: bigint, offsetMinutes = 0): string {
  const local = ns + BigInt(offsetMinutes) * 60_000_000_000n;
  const iso = new Date(Number(local / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const frac = (local % 1_000_000_000n).toString().padStart(9, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${iso}.${frac}${zone}`;
}

/** Encodes one read() of container output the way conmon's write_k8s_log does. */
function conmonChunk(stream: 'stdout' | 'stderr', bytes: Buffer, timeNs: bigint, offsetMinutes = 0): Buffer {
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += CONMON_BUF) {
    let buf = bytes.subarray(start, Math.min(bytes.length, start + CONMON_BUF));
    const prefix = `${k8sTime(timeNs, offsetMinutes)} ${stream} `;
    while (buf.length > 0) {
      const nl = buf.indexOf(0x0a);
      const partial = nl < 0;
      const len = partial ? buf.length : nl + 1;
      parts.push(Buffer.from(prefix + (partial ? 'P ' : 'F ')), buf.subarray(0, len));
      if (partial) parts.push(Buffer.from('\n'));
      buf = buf.subarray(len);
    }
  }
  return Buffer.concat(parts);
}

async function collect(path: string, opts: Partial<ReadLogsOptions> = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, { stdout: true, stderr: true, ...opts })) out.push(e);
  return out;
}

function joined(entries: LogEntry[], stream: 'stdout' | 'stderr'): Buffer {
  return Buffer.concat(entries.filter((e) => e.stream === stream).map((e) => e.data));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('bytes come back exactly as written, binary and long lines included', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    const binary = Buffer.alloc(300);
    for (let i = 0; i < binary.length; i++) binary[i] = i % 256;
    const long = Buffer.from('x'.repeat(20_000) + '\n');
    const writes: Array<['stdout' | 'stderr', Buffer]> = [
      ['stdout', Buffer.from('hello\nwor')],
      ['stderr', Buffer.from('oops stdout F P \n')],
      ['stdout', Buffer.from('ld\n\n')],
      ['stdout', binary],
      ['stderr', long],
      ['stdout', Buffer.from('tail without newline')],
    ];
    await writeFile(path, Buffer.concat(writes.map(([s, b], i) => conmonChunk(s, b, BASE_NS + BigInt(i), i * 30))));
    const entries = await collect(path);
    assert.deepEqual(joined(entries, 'stdout'), Buffer.concat(writes.filter((w) => w[0] === 'stdout').map((w) => w[1])));
    assert.deepEqual(joined(entries, 'stderr'), Buffer.concat(writes.filter((w) => w[0] === 'stderr').map((w) => w[1])));
    const longChunks = entries.filter((e) => e.stream === 'stderr').slice(1);
    assert.deepEqual(longChunks.map((e) => e.partial), [true, true, false]);
    assert.equal(entries[0]!.time, '2025-11-28T14:48:05.000000000Z');
    assert.equal(entries[entries.length - 1]!.timeNs, BASE_NS + 5n);
    assert.equal(entries[entries.length - 1]!.partial, true);
  }));

test('stream selection', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([
      conmonChunk('stdout', Buffer.from('out\n'), BASE_NS),
      conmonChunk('stderr', Buffer.from('err\n'), BASE_NS),
    ]));
    assert.equal(joined(await collect(path, { stderr: false }), 'stdout').toString(), 'out\n');
    assert.deepEqual((await collect(path, { stdout: false })).map((e) => e.data.toString()), ['err\n']);
    assert.deepEqual(await collect(path, { stdout: false, stderr: false }), []);
  }));

test('a missing file yields nothing', () =>
  withDir(async (dir) => {
    assert.deepEqual(await collect(join(dir, 'never.log')), []);
    assert.deepEqual(await collect(join(dir, 'never.log'), { follow: true, stopped: Promise.resolve() }), []);
  }));

test('since is inclusive, until ends the read', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    const chunks = [];
    for (let i = 0; i < 10; i++) chunks.push(conmonChunk('stdout', Buffer.from(`line ${i}\n`), BASE_NS + BigInt(i) * 1_000_000_000n));
    await writeFile(path, Buffer.concat(chunks));
    const texts = async (o: Partial<ReadLogsOptions>) => (await collect(path, o)).map((e) => e.data.toString().trim());
    assert.deepEqual(await texts({ since: BASE_NS + 7_000_000_000n }), ['line 7', 'line 8', 'line 9']);
    assert.deepEqual(await texts({ until: BASE_NS + 2_000_000_000n }), ['line 0', 'line 1', 'line 2']);
    assert.deepEqual(await texts({ since: BASE_NS + 4_500_000_000n, until: BASE_NS + 6_000_000_000n }), ['line 5', 'line 6']);
    // Docker applies tail before since.
    assert.deepEqual(await texts({ tail: 5, since: BASE_NS + 7_000_000_000n }), ['line 7', 'line 8', 'line 9']);
    assert.deepEqual(await texts({ tail: 2, since: BASE_NS }), ['line 8', 'line 9']);
  }));

/** What tail should return, computed forwards: whole messages (per stream), ordered by their last chunk. */
function referenceTail(entries: LogEntry[], lines: number): LogEntry[] {
  if (lines < 0) return entries;
  const messageOf: number[] = [];
  const openMessage = new Map<string, number>();
  const messageEnds: number[] = [];
  entries.forEach((e, i) => {
    let id = openMessage.get(e.stream);
    if (id === undefined) {
      id = messageEnds.length;
      messageEnds.push(-1);
      openMessage.set(e.stream, id);
    }
    messageOf[i] = id;
    messageEnds[id] = i;
    if (!e.partial) openMessage.delete(e.stream);
  });
  const kept = new Set(messageEnds.map((end, id) => ({ end, id })).sort((a, b) => a.end - b.end).slice(-lines || messageEnds.length).map((m) => m.id));
  if (lines === 0) kept.clear();
  return entries.filter((_, i) => kept.has(messageOf[i]!));
}

test('tail counts messages, not chunks, and matches a forward reference on random logs', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 15; round++) {
      const chunks: Buffer[] = [];
      const nChunks = 1 + rand(60);
      for (let i = 0; i < nChunks; i++) {
        const len = rand(5) === 0 ? rand(20_000) : rand(40);
        const bytes = Buffer.alloc(len, 0x61 + rand(26));
        for (let j = 0; j < len; j++) if (rand(15) === 0) bytes[j] = 0x0a;
        chunks.push(conmonChunk(rand(3) === 0 ? 'stderr' : 'stdout', bytes, BASE_NS + BigInt(i)));
      }
      await writeFile(path, Buffer.concat(chunks));
      const all = await collect(path);
      for (const n of [0, 1, 2, 3, 5, 8, 13, 40, 1000, -1]) {
        const got = await collect(path, { tail: n });
        assert.deepEqual(got, referenceTail(all, n), `round ${round} tail ${n}`);
      }
    }
  }));

test('tail of a partial message includes its earlier chunks', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([
      conmonChunk('stdout', Buffer.from('first\n'), BASE_NS),
      conmonChunk('stdout', Buffer.from('sec'), BASE_NS + 1n),
      conmonChunk('stderr', Buffer.from('interleaved\n'), BASE_NS + 2n),
      conmonChunk('stdout', Buffer.from('ond\n'), BASE_NS + 3n),
    ]));
    assert.deepEqual(joined(await collect(path, { tail: 1, stderr: false }), 'stdout').toString(), 'second\n');
    assert.deepEqual((await collect(path, { tail: 0 })).length, 0);
  }));

test('tail on a large file reads only its end', () =>
  withDir(async (dir) => {
    const path = join(dir, 'big.log');
    const handle = await open(path, 'w');
    const line = conmonChunk('stdout', Buffer.from('y'.repeat(200) + '\n'), BASE_NS);
    const block = Buffer.concat(Array.from({ length: 5000 }, () => line));
    for (let i = 0; i < 200; i++) await handle.write(block); // ~250 MB
    await handle.write(conmonChunk('stdout', Buffer.from('the end\n'), BASE_NS + 1n));
    await handle.close();
    const started = process.hrtime.bigint();
    const got = await collect(path, { tail: 3 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(got.length, 3);
    assert.equal(got[2]!.data.toString(), 'the end\n');
    assert.ok(ms < 200, `tail took ${ms} ms`);
  }));

test('follow yields appended output and ends after the container stops', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, conmonChunk('stdout', Buffer.from('before\n'), BASE_NS));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of readLogs(path, { stdout: true, stderr: true, follow: true, stopped })) seen.push(e.data.toString());
    })();
    await delay(50);
    // A line written in two pieces must come out once, whole.
    const next = conmonChunk('stderr', Buffer.from('after\n'), BASE_NS + 1n);
    await appendFile(path, next.subarray(0, 10));
    await delay(30);
    await appendFile(path, next.subarray(10));
    await waitFor(() => seen.length === 2);
    await appendFile(path, conmonChunk('stdout', Buffer.from('last words\n'), BASE_NS + 2n));
    stop();
    await reading;
    assert.deepEqual(seen, ['before\n', 'after\n', 'last words\n']);
  }));

test('follow waits for a file that does not exist yet, and survives rotation', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of readLogs(path, { stdout: true, stderr: true, follow: true, stopped, tail: 10 })) seen.push(e.data.toString());
    })();
    await delay(50);
    await writeFile(path, conmonChunk('stdout', Buffer.from('one\n'), BASE_NS));
    await waitFor(() => seen.length === 1);
    await appendFile(path, conmonChunk('stdout', Buffer.from('two\n'), BASE_NS + 1n));
    await rename(path, `${path}.1`);
    await writeFile(`${path}.tmp`, conmonChunk('stdout', Buffer.from('three\n'), BASE_NS + 2n));
    await rename(`${path}.tmp`, path);
    await waitFor(() => seen.length === 3);
    await appendFile(path, conmonChunk('stdout', Buffer.from('four\n'), BASE_NS + 3n));
    await waitFor(() => seen.length === 4);
    stop();
    await reading;
    assert.deepEqual(seen, ['one\n', 'two\n', 'three\n', 'four\n']);
  }));

test('follow ends on abort, and with until once the clock passes it', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, conmonChunk('stdout', Buffer.from('x\n'), BASE_NS));
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    const got = await collect(path, { follow: true, signal: ac.signal });
    assert.equal(got.length, 1);
    assert.ok(Date.now() - started < 1000);
    const until = BigInt(Date.now() + 150) * 1_000_000n;
    const got2 = await collect(path, { follow: true, until });
    assert.equal(got2.length, 1);
    assert.ok(Date.now() - started < 2000);
  }));

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await delay(10);
  }
}
