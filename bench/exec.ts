/**
 * Exec latency for `npm run bench` (issue 3, item 10): wall time of `docker exec c true` in a
 * running busybox container, median of RUNS after WARMUP, on berth and on dockerd when run.ts
 * has one. run.ts calls measure() once per daemon and prints lines().
 */
import { runCommand } from '../test/e2e/harness.js';
import { mustDocker as must, timing, type Docker, type Timing, timingLines } from './docker-runner.js';

const WARMUP = 3;
const RUNS = 20;

export type ExecTiming = Timing;

export class ExecBench {
  private readonly timings = new Map<'berth' | 'dockerd', ExecTiming>();
  private floor: ExecTiming | undefined;

  /**
   * Times `docker exec <c> true` against one daemon; the container is removed afterwards. With
   * `runcRoot` (berth's), also times `runc exec` of the same container straight from here: the
   * runtime's own cost, which every daemon that execs through runc pays and cannot go under.
   */
  async measure(side: 'berth' | 'dockerd', docker: Docker, runcRoot?: string): Promise<ExecTiming> {
    process.stderr.write(`bench: timing docker exec on ${side} (${WARMUP} warm-up + ${RUNS} runs)...\n`);
    const id = await must(docker, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '100000']);
    try {
      for (let i = 0; i < WARMUP; i++) await must(docker, ['exec', id, 'true']);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = process.hrtime.bigint();
        await must(docker, ['exec', id, 'true']);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const t = timing(times);
      this.timings.set(side, t);
      if (runcRoot) this.floor = await timeRuncExec(runcRoot, await must(docker, ['inspect', '-f', '{{.Id}}', id]));
      return t;
    } finally {
      await docker(['rm', '-f', id]);
    }
  }

  /** Result lines in run.ts' table layout; the ratio is berth / dockerd (goal: at most 0.75x, issue 8). */
  lines(widths: number[]): string[] {
    const b = this.timings.get('berth');
    const d = this.timings.get('dockerd');
    if (!b) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    return [
      ...timingLines(widths, 'docker exec c true', '<= 0.75x', `median of ${RUNS} (after ${WARMUP} warm-up)`, b, d),
      ...(this.floor
        ? [
            `${pad('  of which `runc exec c true` alone', widths[0]!)}${pad(ms(this.floor.median), widths[1]!)}${pad('', widths[2]!)}${
              d ? `${(this.floor.median / d.median).toFixed(2)}x (the floor with runc)` : ''
            }`,
          ]
        : []),
    ];
  }
}

/** `runc exec <id> true` run directly, median of RUNS after WARMUP. */
async function timeRuncExec(runcRoot: string, id: string): Promise<ExecTiming> {
  const run = async () => {
    const r = await runCommand('runc', ['--root', runcRoot, 'exec', id, 'true']);
    if (r.code !== 0) throw new Error(`runc exec: exit ${r.code}: ${r.stderr}`);
  };
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return timing(times);
}
