/**
 * Attach throughput for `npm run bench` (issue 3, item 10): wall time of
 * `docker run --rm busybox sh -c 'yes | head -c 100000000' | wc -c`, i.e. 100 MB of stdout
 * through the attach stream and the CLI, as MB/s. Goal: at least 10x dockerd.
 *
 * dockerd moves about 1 MB/s on this kind of machine, so it gets a single run (100 s already);
 * berth gets RUNS and reports the median.
 */
import { DOCKER_BIN, runCommand } from '../test/e2e/harness.js';
import { median } from './docker-runner.js';

const BYTES = 100_000_000;
const RUNS = 3;

export interface DaemonEndpoint {
  socket: string;
  configDir: string;
}

export class AttachBench {
  private readonly rates = new Map<'berth' | 'dockerd', { mbps: number; runs: number }>();

  /** One timed pipeline; throws unless every byte arrived. */
  private async once(ep: DaemonEndpoint): Promise<number> {
    const cmd = `${DOCKER_BIN} run --rm --network none busybox sh -c 'yes | head -c ${BYTES}' | wc -c`;
    const env = { ...process.env, DOCKER_HOST: `unix://${ep.socket}`, DOCKER_CONFIG: ep.configDir };
    const t0 = process.hrtime.bigint();
    const r = await runCommand('sh', ['-c', cmd], { env, timeoutMs: 600_000 });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.code !== 0 || r.stdout.trim() !== String(BYTES)) throw new Error(`attach bench: got ${r.stdout.trim()} bytes (exit ${r.code}): ${r.stderr}`);
    return BYTES / 1e6 / secs;
  }

  async measure(side: 'berth' | 'dockerd', ep: DaemonEndpoint): Promise<void> {
    const runs = side === 'berth' ? RUNS : 1;
    process.stderr.write(`bench: attach throughput on ${side} (${runs} x ${BYTES / 1e6} MB)...\n`);
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) rates.push(await this.once(ep));
    this.rates.set(side, { mbps: median(rates), runs });
  }

  /** Result lines in run.ts' table layout; the ratio is berth / dockerd throughput (goal >= 10x). */
  lines(widths: number[]): string[] {
    const b = this.rates.get('berth');
    const d = this.rates.get('dockerd');
    if (!b) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const rate = (x: number) => `${x.toFixed(1)} MB/s`;
    return [
      `${pad("docker run ... 'yes | head -c 100000000' | wc -c", widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal >= 10x)`,
      `${pad(`  median (berth ${b.runs} runs, dockerd ${d?.runs ?? 0})`, widths[0]!)}${pad(rate(b.mbps), widths[1]!)}${pad(d ? rate(d.mbps) : '-', widths[2]!)}${
        d ? `${(b.mbps / d.mbps).toFixed(1)}x` : '-'
      }`,
    ];
  }
}
