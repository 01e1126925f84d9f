// What every benchmark needs: a docker CLI bound to one daemon, and the statistics we report.
import { DOCKER_BIN, runCommand, type CmdResult } from '../test/e2e/harness.js';

export type Docker = (args: string[], input?: Buffer) => Promise<CmdResult>;

export interface Timing {
  median: number;
  min: number;
  max: number;
}

export function dockerFor(socket: string, configDir: string): Docker {
  return (args, input) =>
    runCommand(DOCKER_BIN, args, {
      input,
      timeoutMs: 120_000,
      env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: configDir },
    });
}

export async function mustDocker(docker: Docker, args: string[], input?: Buffer): Promise<string> {
  const r = await docker(args, input);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function timing(xs: number[]): Timing {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * The three table lines of a latency part in run.ts' layout: the title with the goal, the
 * medians with the berth/dockerd ratio, and min/max. `d` is absent when no dockerd ran.
 */
export function timingLines(widths: number[], title: string, goal: string, runs: string, b: Timing, d: Timing | undefined): string[] {
  const pad = (s: string, n: number) => s.padEnd(n);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  return [
    `${pad(title, widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal ${goal})`,
    `${pad(`  ${runs}`, widths[0]!)}${pad(ms(b.median), widths[1]!)}${pad(d ? ms(d.median) : '-', widths[2]!)}${d ? `${(b.median / d.median).toFixed(2)}x` : '-'}`,
    `${pad('  min / max', widths[0]!)}${pad(`${b.min.toFixed(0)} / ${b.max.toFixed(0)} ms`, widths[1]!)}${d ? `${d.min.toFixed(0)} / ${d.max.toFixed(0)} ms` : '-'}`,
  ];
}
