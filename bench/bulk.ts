/**
 * Bulk create and bulk remove for `npm run bench` (issue 8, item 7): COUNT sequential `docker
 * create --network none busybox true`, then one `docker rm` of all of them (the CLI sends the
 * DELETEs itself, up to 50 at a time), on each daemon. Creates alternate between the daemons one
 * by one, so both see the same machine; the removes follow each other. ROUNDS rounds, the
 * median round reported. Goal: at most 0.5x dockerd's time for both.
 */
import { mustDocker, timing, type Docker, type Timing } from './docker-runner.js';

const COUNT = 300;
const ROUNDS = 3;

type Side = 'berth' | 'dockerd';

const elapsedMs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

export class BulkBench {
  private readonly creates = new Map<Side, Timing>();
  private readonly removes = new Map<Side, Timing>();

  /** dockers: side -> CLI bound to that daemon. */
  async measure(dockers: Map<Side, Docker>): Promise<void> {
    process.stderr.write(`bench: bulk create and remove of ${COUNT} containers on ${[...dockers.keys()].join(' and ')} (${ROUNDS} rounds)...\n`);
    const createMs = new Map<Side, number[]>([...dockers.keys()].map((k) => [k, []]));
    const removeMs = new Map<Side, number[]>([...dockers.keys()].map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const ids = new Map<Side, string[]>([...dockers.keys()].map((k) => [k, []]));
      const sums = new Map<Side, number>([...dockers.keys()].map((k) => [k, 0]));
      try {
        for (let i = 0; i < COUNT; i++) {
          for (const [side, d] of dockers) {
            const t0 = process.hrtime.bigint();
            ids.get(side)!.push(await mustDocker(d, ['create', '--network', 'none', 'busybox', 'true']));
            sums.set(side, sums.get(side)! + elapsedMs(t0));
          }
        }
        for (const [side, sum] of sums) createMs.get(side)!.push(sum);
        for (const [side, d] of dockers) {
          const t0 = process.hrtime.bigint();
          await mustDocker(d, ['rm', ...ids.get(side)!]);
          removeMs.get(side)!.push(elapsedMs(t0));
          ids.set(side, []);
        }
      } finally {
        for (const [side, d] of dockers) if (ids.get(side)!.length > 0) await d(['rm', '-f', ...ids.get(side)!]);
      }
    }
    for (const [side, xs] of createMs) this.creates.set(side, timing(xs));
    for (const [side, xs] of removeMs) this.removes.set(side, timing(xs));
  }

  lines(widths: number[]): string[] {
    return [
      ...this.table(`${COUNT} x docker create (sequential)`, this.creates, widths),
      ...this.table(`docker rm of those ${COUNT} (never started)`, this.removes, widths),
    ];
  }

  private table(title: string, timings: Map<Side, Timing>, widths: number[]): string[] {
    const b = timings.get('berth');
    const d = timings.get('dockerd');
    if (!b) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    return [
      `${pad(title, widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal <= 0.5x)`,
      `${pad(`  median of ${ROUNDS} rounds`, widths[0]!)}${pad(ms(b.median), widths[1]!)}${pad(d ? ms(d.median) : '-', widths[2]!)}${
        d ? `${(b.median / d.median).toFixed(2)}x` : '-'
      }`,
      `${pad('  min / max', widths[0]!)}${pad(`${ms(b.min)} / ${ms(b.max)}`, widths[1]!)}${d ? `${ms(d.min)} / ${ms(d.max)}` : '-'}`,
    ];
  }
}
