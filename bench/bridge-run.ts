/**
 * `docker run --rm busybox true` on each daemon's default bridge (issue 9, item 9): network setup
 * and teardown are inside the timed run (berth: IPAM, netavark setup/teardown, port and DNS
 * state; dockerd: libnetwork's sandbox, veth and iptables). Runs alternate between the daemons,
 * as in run.ts' `run` part. Goal: berth at most 0.5x dockerd's time.
 */
import { mustDocker, timing, type Docker, type Timing, timingLines } from './docker-runner.js';

const WARMUP = 3;
const RUNS = 20;
type Side = 'berth' | 'dockerd';

export class BridgeRunBench {
  private readonly times = new Map<Side, Timing>();

  async measure(dockers: Map<Side, Docker>): Promise<void> {
    process.stderr.write(`bench: docker run --rm busybox true on the default bridge, ${[...dockers.keys()].join(' and ')} alternating (${WARMUP} warm-up + ${RUNS} runs)...\n`);
    const args = ['run', '--rm', 'busybox', 'true'];
    for (let i = 0; i < WARMUP; i++) for (const d of dockers.values()) await mustDocker(d, args);
    const samples = new Map<Side, number[]>([...dockers.keys()].map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [side, d] of dockers) {
        const t0 = process.hrtime.bigint();
        await mustDocker(d, args);
        samples.get(side)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    for (const [side, xs] of samples) this.times.set(side, timing(xs));
  }

  lines(widths: number[], dockerdNote: string): string[] {
    const b = this.times.get('berth');
    const d = this.times.get('dockerd');
    if (!b) return [];
    return [
      ...timingLines(widths, 'docker run --rm busybox true, default bridge', '<= 0.5x', `median of ${RUNS} (after ${WARMUP} warm-up)`, b, d),
      `  dockerd: ${dockerdNote}`,
    ];
  }
}
