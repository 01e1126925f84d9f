/**
 * A private dockerd (Debian's docker.io) for the side-by-side parts: its own data-root,
 * exec-root and socket under `base`, never the system service, never docker0 unless the caller
 * passes a bridge of its own (dockerd-bridge.ts). stop() kills it and its managed containerd,
 * unmounts what it left under `base` and removes `base`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findProcesses, rawRequest, readBody, runCommand } from '../test/e2e/harness.js';

// The default base carries the pid so that two benches running at once (several engineers on one
// machine) do not share a dockerd's roots.
export const DOCKERD_BASE = `/tmp/bench-dockerd-${process.pid}`;
export const NO_BRIDGE = ['--bridge=none', '--iptables=false', '--ip-masq=false'];

export interface PrivateDockerd {
  socket: string;
  dataRoot: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts dockerd; undefined when it is not installed. */
export async function startDockerd(base = DOCKERD_BASE, network = NO_BRIDGE, extraArgs: string[] = []): Promise<PrivateDockerd | undefined> {
  const which = await runCommand('sh', ['-c', 'command -v dockerd']);
  if (which.code !== 0) return undefined;
  await rm(base, { recursive: true, force: true });
  await mkdir(join(base, 'root'), { recursive: true });
  const socket = join(base, 'docker.sock');
  const dataRoot = join(base, 'root');
  const child = spawn(
    which.stdout.trim(),
    [
      '-H', `unix://${socket}`,
      '--data-root', dataRoot,
      '--exec-root', join(base, 'exec'),
      '--pidfile', join(base, 'docker.pid'),
      ...network,
      '--storage-driver', 'overlay2',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-8000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(killer);
    }
    // dockerd's managed containerd lives under exec-root; make sure nothing of it is left
    for (const p of await findProcesses([base])) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await runCommand('sh', ['-c', `grep -o ' ${base}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    await rm(base, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`dockerd exited during start: ${log}`);
    }
    try {
      const res = await rawRequest(socket, 'GET', '/_ping', { timeoutMs: 1000 });
      await readBody(res);
      if (res.statusCode === 200) return { socket, dataRoot, child, stop };
    } catch {
      // not yet
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`dockerd did not answer within 60 s: ${log}`);
}
