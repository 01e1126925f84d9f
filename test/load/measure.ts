// Figures for the load harness: latency samples per verb with percentiles, and a process's
// RSS and CPU read from /proc (the daemon's, and conmon's summed over a set of pids).
import { readFile } from 'node:fs/promises';
import { clkTck } from './clock.js';

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  return { count: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length === 0 ? 0 : s[s.length - 1]! };
}

/** Latencies in ms, grouped by verb. */
export class Latencies {
  readonly byVerb = new Map<string, number[]>();

  add(verb: string, ms: number): void {
    let xs = this.byVerb.get(verb);
    if (!xs) this.byVerb.set(verb, (xs = []));
    xs.push(ms);
  }

  get total(): number {
    let n = 0;
    for (const xs of this.byVerb.values()) n += xs.length;
    return n;
  }

  table(): string[] {
    const f = (x: number) => x.toFixed(1).padStart(9);
    const lines = [`${'verb'.padEnd(16)}${'count'.padStart(8)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`];
    for (const [verb, xs] of [...this.byVerb].sort(([a], [b]) => a.localeCompare(b))) {
      const p = percentiles(xs);
      lines.push(`${verb.padEnd(16)}${String(p.count).padStart(8)}${f(p.p50)}${f(p.p95)}${f(p.p99)}${f(p.max)}`);
    }
    return lines;
  }
}

export const elapsedMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** Resident set size in KiB (0 when the process is gone). */
export async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** user + system CPU seconds the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / clkTck();
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every interval until stop(): peak and last, and its CPU use over the span. */
export class ProcessSampler {
  private peak = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private cpu0 = 0;
  private t0 = 0n;

  constructor(private readonly pid: number) {}

  async start(intervalMs = 500): Promise<void> {
    this.cpu0 = await cpuSeconds(this.pid);
    this.t0 = process.hrtime.bigint();
    this.last = this.peak = await rssKiB(this.pid);
    this.timer = setInterval(() => {
      void rssKiB(this.pid).then((kb) => {
        if (kb > 0) this.last = kb;
        this.peak = Math.max(this.peak, kb);
      });
    }, intervalMs);
  }

  async stop(): Promise<{ rssPeakMiB: number; rssEndMiB: number; cpuPercent: number }> {
    clearInterval(this.timer);
    const cpu = (await cpuSeconds(this.pid)) - this.cpu0;
    const wall = elapsedMs(this.t0) / 1000;
    const end = await rssKiB(this.pid);
    return { rssPeakMiB: Math.max(this.peak, end) / 1024, rssEndMiB: (end || this.last) / 1024, cpuPercent: wall > 0 ? (100 * cpu) / wall : 0 };
  }
}
