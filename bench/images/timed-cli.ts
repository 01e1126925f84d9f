/**
 * Runs the docker CLI against one daemon for timing, with its stdout counted and dropped rather
 * than collected (a `docker save` writes hundreds of MB), and extra environment (DOCKER_BUILDKIT).
 */
import { spawn } from 'node:child_process';
import { DOCKER_BIN } from '../../test/e2e/harness.js';

export interface TimedRun {
  ms: number;
  stdoutBytes: number;
}

export interface CliTarget {
  socket: string;
  configDir: string;
}

/** Runs `docker args`; rejects with its stderr when it exits non-zero. */
export function timedDocker(target: CliTarget, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(DOCKER_BIN, args, {
      env: { ...process.env, DOCKER_HOST: `unix://${target.socket}`, DOCKER_CONFIG: target.configDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdoutBytes += c.length));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve({ ms, stdoutBytes });
      else reject(new Error(`docker ${args.join(' ')}: exit ${code}: ${stderr}`));
    });
  });
}
