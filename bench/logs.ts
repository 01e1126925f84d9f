/**
 * Logs read-back for `npm run bench` (issue 3, item 10): a container writes 200 MB of 101-byte
 * lines once, then `docker logs c > /dev/null` is timed (median of RUNS; dockerd, which is much
 * slower here, gets one run). Goal: at least 2x dockerd's throughput.
 */
import { DOCKER_BIN, runCommand } from '../test/e2e/harness.js';
import { median } from './docker-runner.js';
import type { DaemonEndpoint } from './attach.js';

const BYTES = 200_000_000;
const RUNS = 3;
const LINE = '0123456789'.repeat(10);
type Side = 'berth' | 'dockerd';

export class LogsBench {
  private readonly rates = new Map<Side, number>();

  async measure(side: Side, ep: DaemonEndpoint): Promise<void> {
    const env = { ...process.env, DOCKER_HOST: `unix://${ep.socket}`, DOCKER_CONFIG: ep.configDir };
    const name = `bench-logs-${process.pid}`;
    process.stderr.write(`bench: logs read-back on ${side} (${BYTES / 1e6} MB written once)...\n`);
    // detached, then waited for: the bench process never holds the 200 MB itself
    const write = await runCommand(DOCKER_BIN, ['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sh', '-c', `yes ${LINE} | head -c ${BYTES}`], { env });
    try {
      const waited = await runCommand(DOCKER_BIN, ['wait', name], { env, timeoutMs: 600_000 });
      if (write.code !== 0 || waited.stdout.trim() !== '0') throw new Error(`logs bench: writing failed: ${write.stderr}${waited.stderr}`);
      const rates: number[] = [];
      for (let i = 0; i < (side === 'berth' ? RUNS : 1); i++) {
        const t0 = process.hrtime.bigint();
        const r = await runCommand('sh', ['-c', `${DOCKER_BIN} logs ${name} | wc -c`], { env, timeoutMs: 600_000 });
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        if (r.code !== 0 || r.stdout.trim() !== String(BYTES)) throw new Error(`logs bench: read ${r.stdout.trim()} bytes (exit ${r.code}): ${r.stderr}`);
        rates.push(BYTES / 1e6 / secs);
      }
      this.rates.set(side, median(rates));
    } finally {
      await runCommand(DOCKER_BIN, ['rm', '-f', name], { env });
    }
  }

  /** Result lines in run.ts' table layout; the ratio is berth / dockerd throughput (goal >= 2x). */
  lines(widths: number[]): string[] {
    const b = this.rates.get('berth');
    const d = this.rates.get('dockerd');
    if (b === undefined) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const rate = (x: number) => `${x.toFixed(1)} MB/s`;
    return [
      `${pad('docker logs of 200 MB (101-byte lines)', widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal >= 2x)`,
      `${pad(`  read-back, median of ${RUNS} (dockerd: 1 run)`, widths[0]!)}${pad(rate(b), widths[1]!)}${pad(d === undefined ? '-' : rate(d), widths[2]!)}${
        d === undefined ? '-' : `${(b / d).toFixed(2)}x`
      }`,
    ];
  }
}
