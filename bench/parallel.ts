/**
 * Parallel runs for `npm run bench` (issue 3, item 10): 40 `docker run -d --network none busybox
 * true` with 8 in flight at a time, as containers per second (wall time of the 40 runs; the
 * removal afterwards is not timed). Rounds alternate between the daemons; the median round is
 * reported. Goal: at least 2x dockerd's rate.
 */
import { median, mustDocker, type Docker } from './docker-runner.js';

const TOTAL = 40;
const CONCURRENCY = 8;
const ROUNDS = 3;

async function round(docker: Docker): Promise<number> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) {
      next++;
      ids.push(await mustDocker(docker, ['run', '-d', '--network', 'none', 'busybox', 'true']));
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await mustDocker(docker, ['rm', '-f', ...ids]);
  return TOTAL / secs;
}

export class ParallelBench {
  private readonly rates = new Map<'berth' | 'dockerd', number>();

  async measure(dockers: Map<'berth' | 'dockerd', Docker>): Promise<void> {
    process.stderr.write(`bench: ${TOTAL} docker run -d at concurrency ${CONCURRENCY} on ${[...dockers.keys()].join(' and ')} (${ROUNDS} rounds each)...\n`);
    const rates = new Map<'berth' | 'dockerd', number[]>([...dockers.keys()].map((k) => [k, []]));
    for (let i = 0; i < ROUNDS; i++) for (const [side, docker] of dockers) rates.get(side)!.push(await round(docker));
    for (const [side, xs] of rates) this.rates.set(side, median(xs));
  }

  lines(widths: number[]): string[] {
    const b = this.rates.get('berth');
    const d = this.rates.get('dockerd');
    if (b === undefined) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const rate = (x: number) => `${x.toFixed(2)} /s`;
    return [
      `${pad(`${TOTAL} x docker run -d true, ${CONCURRENCY} at a time`, widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal >= 2x)`,
      `${pad(`  containers per second, median of ${ROUNDS}`, widths[0]!)}${pad(rate(b), widths[1]!)}${pad(d !== undefined ? rate(d) : '-', widths[2]!)}${
        d !== undefined ? `${(b / d).toFixed(2)}x` : '-'
      }`,
    ];
  }
}
