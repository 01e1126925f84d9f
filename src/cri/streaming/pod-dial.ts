// Port-forward's connection to localhost:<port> inside a pod. Node cannot setns(), so for a pod
// with its own network namespace each connection is a `nsenter --net=<netns> socat` process
// whose stdio is the connection (what kubelet's dockershim did); a host-network pod's localhost
// is ours, dialled directly.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface PodConnection {
  /** Bytes to the target. */
  input: Writable;
  /** Bytes from it; ends when the target closes its side. */
  output: Readable;
  /** Settles once the connection is over: null, or what went wrong (for the error stream). */
  done: Promise<string | null>;
  /** Drops the connection now (the client reset its stream or went away). */
  close(): void;
}

export type PodDialer = (port: number) => PodConnection;

/**
 * After one side reaches EOF socat half-closes the other and waits this long for it to finish
 * (its -t); portforward.ts ends the connection a second after either side is done anyway.
 */
const HALF_CLOSE_WAIT_S = 2;

export function hostDialer(host = '127.0.0.1'): PodDialer {
  return (port) => {
    const sock = net.connect({ host, port, allowHalfOpen: true });
    let failure: string | null = null;
    sock.on('error', (err) => (failure ??= `failed to connect to localhost:${port}: ${err.message}`));
    const done = new Promise<string | null>((resolve) => sock.once('close', () => resolve(failure)));
    return { input: sock, output: sock, done, close: () => sock.destroy() };
  };
}

export function netnsDialer(netnsPath: string, nsenter = 'nsenter', socat = 'socat'): PodDialer {
  return (port) => {
    const child = spawn(nsenter, [`--net=${netnsPath}`, '--', socat, `-t${HALF_CLOSE_WAIT_S}`, 'STDIO', `TCP4:localhost:${port}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    child.stdin.on('error', () => undefined); // the process left: done reports why
    let spawnError: string | null = null;
    child.once('error', (err) => (spawnError = err.message));
    const done = new Promise<string | null>((resolve) => {
      child.once('close', (code, signal) => {
        if (spawnError) resolve(`cannot run ${nsenter} ${socat}: ${spawnError}`);
        else if (code === 0 || signal === 'SIGKILL') resolve(null);
        else resolve(`failed to connect to localhost:${port} inside the pod's network namespace: ${socatReason(stderr) || `exit status ${code ?? signal}`}`);
      });
    });
    return {
      input: child.stdin,
      output: child.stdout,
      done,
      close: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  };
}

/** socat's "2026/01/01 00:00:00 socat[12] E connect(...): Connection refused" -> "Connection refused". */
export function socatReason(stderr: string): string {
  const line = stderr.split('\n').find((l) => / E /.test(l)) ?? stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  const m = /: ([^:]+)$/.exec(line.trim());
  return (m ? m[1]! : line).trim();
}
