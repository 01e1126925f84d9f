// Logs at scale (issue 3, item 7): 200 MB read back byte for byte with stdout and stderr apart,
// other requests answered while a big read streams, rotation by berth (max-size/max-file) with
// `docker logs`, --tail and -f across the rotated files, and the log drivers Docker accepts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_BIN, daemonForFile, type Daemon } from './harness.js';

const LINE = '0123456789'.repeat(10); // `yes` prints it with a newline: 101-byte lines
const TOTAL = 200_000_000;

/** sha256 and length of the first `total` bytes of `yes LINE`, computed here. */
function expectedDigest(total: number): string {
  const unit = Buffer.from(`${LINE}\n`);
  const block = Buffer.concat(Array.from({ length: 10_000 }, () => unit));
  const hash = createHash('sha256');
  let left = total;
  while (left > 0) {
    const piece = block.subarray(0, Math.min(block.length, left));
    hash.update(piece);
    left -= piece.length;
  }
  return hash.digest('hex');
}

describe('logs at scale', () => {
  const f = daemonForFile();
  const { name, inspect } = f;
  let d: Daemon;
  before(() => {
    d = f.daemon();
  });

  /** Runs `docker <args>` and hashes its stdout as it streams; stderr is kept. */
  const digestOf = (args: string[]) =>
    new Promise<{ code: number; bytes: number; sha256: string; stderr: string }>((resolve, reject) => {
      const child = spawn(DOCKER_BIN, args, { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` } });
      const hash = createHash('sha256');
      let bytes = 0;
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, bytes, sha256: hash.digest('hex'), stderr }));
    });

  test('200 MB of output comes back from docker logs byte for byte, stderr apart', { timeout: 300_000 }, async () => {
    const n = name('big');
    await d.dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', `yes ${LINE} | head -c ${TOTAL}; echo to-stderr >&2`]);
    const got = await digestOf(['logs', n]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.bytes, TOTAL);
    assert.equal(got.sha256, expectedDigest(TOTAL));
    assert.equal(got.stderr, 'to-stderr\n');
  });

  test('while a big log streams, the daemon answers other requests', { timeout: 300_000 }, async () => {
    const n = name('big2');
    await d.dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', `yes ${LINE} | head -c 50000000`]);
    // A reader that takes the first bytes and then stops reading: the daemon holds a stream
    // under backpressure, and must still serve everything else.
    const res = await d.stream('GET', `/containers/${n}/logs?stdout=1&stderr=1`);
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    res.pause();
    const ping = await d.api('GET', '/_ping');
    assert.equal(ping.status, 200);
    const ps = await d.docker(['ps', '-a', '--filter', `name=${n}`, '--format', '{{.Names}}']);
    assert.equal(ps.stdout.trim(), n);
    assert.equal(res.complete, false, 'the log stream was still in progress');
    res.destroy();
  });

  test('max-size/max-file: berth rotates, docker logs reads across files, --tail too, rm takes them', { timeout: 120_000 }, async () => {
    const n = name('rot');
    // 20 bursts of 2000 numbered lines, each burst past max-size, with pauses for the rotation.
    const script = 'i=0; for b in $(seq 1 20); do seq $((i+1)) $((i+2000)); i=$((i+2000)); sleep 0.3; done';
    const id = await d.dockerOk(['run', '-d', '--name', n, '--log-opt', 'max-size=50k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]);
    await d.dockerOk(['wait', n]);
    const c = await inspect(n);
    assert.deepEqual(c.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '50k', 'max-file': '3' } });
    const dir = join(d.dataRoot, 'containers', id);
    const logs = (await readdir(dir)).filter((f) => f.startsWith('container.log')).sort();
    assert.deepEqual(logs, ['container.log', 'container.log.1', 'container.log.2']);
    for (const file of logs) {
      // a burst is ~100 KB of k8s-file lines: a file holds at most about one burst past max-size
      assert.ok((await stat(join(dir, file))).size < 400_000, `${file} is bounded`);
    }
    const lines = (await d.dockerOk(['logs', n])).split('\n').map(Number);
    // what is kept is the newest part, in order, ending with the last line
    assert.equal(lines.at(-1), 40_000);
    assert.ok(lines.length < 40_000, 'old files were dropped');
    for (let i = 1; i < lines.length; i++) assert.equal(lines[i], lines[i - 1]! + 1);
    const tail = (await d.dockerOk(['logs', '--tail', String(lines.length - 10), n])).split('\n').map(Number);
    assert.deepEqual(tail, lines.slice(10));
    await d.dockerOk(['rm', n]);
    assert.equal(existsSync(dir), false);
  });

  test('docker logs -f follows across rotations', { timeout: 120_000 }, async () => {
    const n = name('rotf');
    const script = 'sleep 1; i=0; for b in $(seq 1 8); do seq $((i+1)) $((i+2000)); i=$((i+2000)); sleep 0.3; done';
    await d.dockerOk(['run', '-d', '--name', n, '--log-opt', 'max-size=50k', '--log-opt', 'max-file=20', 'busybox', 'sh', '-c', script]);
    const followed = await d.docker(['logs', '-f', n]);
    assert.equal(followed.code, 0, followed.stderr);
    const lines = followed.stdout.trim().split('\n').map(Number);
    assert.equal(lines.length, 16_000);
    lines.forEach((v, i) => assert.equal(v, i + 1));
  });

  test('log drivers: none keeps nothing, local rotates by default, unknown drivers and options are 400s', async () => {
    const n = name('nolog');
    const id = await d.dockerOk(['run', '--name', n, '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    const r = await d.docker(['logs', n]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.equal(existsSync(join(d.dataRoot, 'containers', id, 'container.log')), false);
    // attach still carries the output without a log
    assert.equal(await d.dockerOk(['run', '--rm', '--log-driver', 'none', 'busybox', 'echo', 'attached']), 'attached');

    const local = name('local');
    await d.dockerOk(['run', '--name', local, '--log-driver', 'local', 'busybox', 'echo', 'kept']);
    assert.equal(await d.dockerOk(['logs', local]), 'kept');
    assert.equal((await inspect(local)).HostConfig.LogConfig.Type, 'local');

    const bad = [
      [{ Type: 'syslog2' }, /no log driver named 'syslog2'/],
      [{ Type: 'json-file', Config: { 'max-sise': '1m' } }, /unknown log opt 'max-sise' for json-file log driver/],
      [{ Type: 'json-file', Config: { 'max-size': 'lots' } }, /invalid size: 'lots'/],
      [{ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '0' } }, /max-file cannot be less than 1/],
    ] as const;
    for (const [LogConfig, message] of bad) {
      const res = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { LogConfig } });
      assert.equal(res.status, 400, JSON.stringify(LogConfig));
      assert.match(res.json.message, message);
    }
  });
});
