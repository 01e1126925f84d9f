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
