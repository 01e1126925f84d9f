// A thin wrapper over an OCI runtime binary (runc's CLI). State lives under berth's own
// --root so berth never sees or touches another runc user's containers.
import { execFile } from 'node:child_process';
import { SystemError } from '../errors.js';

export interface RuncState {
  id: string;
  pid: number;
  status: 'created' | 'running' | 'paused' | 'stopped' | 'creating';
  bundle: string;
  created: string;
}

/** runc logs as JSON lines ({"level","msg","time"}); keep only the messages. */
export function runtimeErrorText(stderr: string): string {
  const messages: string[] = [];
  for (const line of stderr.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    try {
      const entry = JSON.parse(trimmed) as { level?: string; msg?: string };
      if (entry.msg && (entry.level === undefined || entry.level === 'error' || entry.level === 'fatal')) {
        messages.push(entry.msg);
      }
      continue;
    } catch {
      // not JSON: text logrus format or plain output
    }
    const text = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(trimmed);
    messages.push(text ? text[1]!.replace(/\\(.)/g, '$1') : trimmed);
  }
  return messages.join('; ');
}

export class Runc {
  /** Global arguments every call gets; also what conmon passes via --runtime-arg. */
  readonly globalArgs: string[];

  constructor(
    readonly path: string,
    readonly root: string,
    extraArgs: string[] = [],
  ) {
    this.globalArgs = ['--root', root, '--log-format', 'json', ...extraArgs];
  }

  private run(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.path, [...this.globalArgs, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const reason = runtimeErrorText(stderr) || err.message;
          reject(new SystemError(reason));
          return;
        }
        resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  async state(id: string): Promise<RuncState | null> {
    try {
      return JSON.parse(await this.run(['state', id])) as RuncState;
    } catch (err) {
      if (err instanceof SystemError && /does not exist|not found/.test(err.message)) return null;
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    await this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await this.run(['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (err instanceof SystemError && /does not exist|not found/.test(err.message)) return;
      throw err;
    }
  }

  async list(): Promise<RuncState[]> {
    const out = await this.run(['list', '--format', 'json']);
    return (JSON.parse(out || 'null') as RuncState[] | null) ?? [];
  }

  async pause(id: string): Promise<void> {
    await this.run(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.run(['resume', id]);
  }

  /** `runc update -r -`: apply OCI LinuxResources (JSON) to the running container's cgroup. */
  async update(id: string, resources: object): Promise<void> {
    await this.run(['update', '-r', '-', id], JSON.stringify(resources));
  }

  /** PIDs of every process in the container's cgroup (`runc ps --format json`). */
  async ps(id: string): Promise<number[]> {
    const out = await this.run(['ps', '--format', 'json', id]);
    return (JSON.parse(out || 'null') as number[] | null) ?? [];
  }
}
