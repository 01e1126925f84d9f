/**
 * Attach throughput for `npm run bench` (issue 3, item 10): wall time of
 * `docker run --rm busybox sh -c 'yes | head -c 100000000' | wc -c`, i.e. 100 MB of stdout
 * through the attach stream and the CLI, as MB/s. Goal: at least 10x dockerd.
 *
 * dockerd moves about 1 MB/s on this kind of machine, so it gets a single run (100 s already);
 * berth gets RUNS and reports the median.
 *
 * `yes` writes 2-byte lines, and both daemons log every line with a timestamp: conmon's k8s-file
 * log grows by about 2.3 GB for the 100 MB, and that copy, not the attach path, is the limit. A
 * second row sends the same 100 MB without newlines, which measures the attach path itself.
 */
import { DOCKER_BIN, runCommand } from '../test/e2e/harness.js';
import { median } from './docker-runner.js';

const BYTES = 100_000_000;
const RUNS = 3;
const PAYLOADS = {
  lines: `yes | head -c ${BYTES}`,
  long: `head -c ${BYTES} /dev/zero | tr '\\0' y`,
} as const;
type Payload = keyof typeof PAYLOADS;
type Side = 'berth' | 'dockerd';

export interface DaemonEndpoint {
  socket: string;
  configDir: string;
}

export class AttachBench {
  private readonly rates = new Map<`${Side}/${Payload}`, { mbps: number; runs: number }>();

  /** One timed pipeline; throws unless every byte arrived. */
  private async once(ep: DaemonEndpoint, payload: Payload): Promise<number> {
    const cmd = `${DOCKER_BIN} run --rm --network none busybox sh -c "${PAYLOADS[payload]}" | wc -c`;
    const env = { ...process.env, DOCKER_HOST: `unix://${ep.socket}`, DOCKER_CONFIG: ep.configDir };
    const t0 = process.hrtime.bigint();
    const r = await runCommand('sh', ['-c', cmd], { env, timeoutMs: 600_000 });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.code !== 0 || r.stdout.trim() !== String(BYTES)) throw new Error(`attach bench: got ${r.stdout.trim()} bytes (exit ${r.code}): ${r.stderr}`);
    return BYTES / 1e6 / secs;
  }

  async measure(side: Side, ep: DaemonEndpoint): Promise<void> {
    for (const payload of Object.keys(PAYLOADS) as Payload[]) {
      const runs = side === 'berth' ? RUNS : 1;
      process.stderr.write(`bench: attach throughput on ${side}, ${payload} (${runs} x ${BYTES / 1e6} MB)...\n`);
      const rates: number[] = [];
      for (let i = 0; i < runs; i++) rates.push(await this.once(ep, payload));
      this.rates.set(`${side}/${payload}`, { mbps: median(rates), runs });
    }
  }

  /** Result lines in run.ts' table layout; the ratio is berth / dockerd throughput (goal >= 10x). */
  lines(widths: number[]): string[] {
    const pad = (s: string, n: number) => s.padEnd(n);
    const rate = (x: number) => `${x.toFixed(1)} MB/s`;
    const row = (label: string, payload: Payload) => {
      const b = this.rates.get(`berth/${payload}`);
      const d = this.rates.get(`dockerd/${payload}`);
      if (!b) return [];
      return [
        `${pad(label, widths[0]!)}${pad(rate(b.mbps), widths[1]!)}${pad(d ? rate(d.mbps) : '-', widths[2]!)}${d ? `${(b.mbps / d.mbps).toFixed(1)}x` : '-'}`,
      ];
    };
    if (!this.rates.has('berth/lines')) return [];
    return [
      `${pad(`attach: docker run ... | wc -c, 100 MB`, widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal >= 10x)`,
      ...row(`  'yes | head -c 100M' (median of ${RUNS}; dockerd 1)`, 'lines'),
      ...row('  the same bytes without newlines', 'long'),
    ];
  }
}
