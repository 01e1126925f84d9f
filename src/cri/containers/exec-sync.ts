// ExecSync: a command run to completion in a running container through the engine's exec path,
// its output captured (capped) and its exit code returned; a non-zero code is an answer, not an
// error. When the timeout passes the process is killed (critest checks with pgrep) and the call
// fails with DEADLINE_EXCEEDED, as containerd's does.
import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../../engine/engine.js';
import { ConflictError, InvalidParameterError } from '../../errors.js';

/** Per stream, as CRI-O caps ExecSync output. */
export const EXEC_SYNC_OUTPUT_CAP = 16 * 1024 * 1024;

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

class Capped {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  add(chunk: Buffer): void {
    const room = EXEC_SYNC_OUTPUT_CAP - this.size;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(Buffer.from(part));
    this.size += part.length;
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function deadlineExceeded(message: string): Error {
  return Object.assign(new Error(message), { code: status.DEADLINE_EXCEEDED, details: message });
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** `timeoutSec` <= 0: no timeout. `cancel`: the gRPC call went away (the process is killed too). */
export async function execSync(engine: Engine, id: string, cmd: string[], timeoutSec: number, cancel?: AbortSignal): Promise<ExecSyncResult> {
  if (!cmd.length) throw new InvalidParameterError('cmd must not be empty');
  const c = engine.containers.get(id);
  if (c.state.Status !== 'running') throw new ConflictError(`container ${id} is not running`);
  const stdout = new Capped();
  const stderr = new Capped();
  const ac = new AbortController();
  let timedOut = false;
  const timer = timeoutSec > 0 ? setTimeout(() => ((timedOut = true), ac.abort()), timeoutSec * 1000) : undefined;
  const onCancel = () => ac.abort();
  cancel?.addEventListener('abort', onCancel, { once: true });
  const { Id } = await engine.execs.create(c.id, {
    User: '', Privileged: false, Tty: false, ConsoleSize: null, AttachStdin: false, AttachStdout: true, AttachStderr: true,
    DetachKeys: '', Env: [], WorkingDir: '', Cmd: cmd,
  }, []);
  try {
    const started = engine.execs.start(Id, { Detach: false, Tty: false, ConsoleSize: null }, {
      stdin: null,
      signal: ac.signal,
      sink: {
        write: (stream, chunk) => {
          (stream === 'stdout' ? stdout : stderr).add(chunk);
          return true;
        },
        onceDrain: (cb) => cb(),
      },
    });
    started.catch(() => undefined);
    // An abort while the process is still being spawned reaches no listener of the exec service's
    // yet, so it is watched here too.
    const aborted = new Promise<void>((resolve) => {
      if (ac.signal.aborted) resolve();
      else ac.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([started, aborted]);
    if (ac.signal.aborted) {
      await killUntilExited(engine, Id);
      if (timedOut) throw deadlineExceeded(`timeout ${timeoutSec}s exceeded: context deadline exceeded`);
      throw Object.assign(new Error('ExecSync cancelled'), { name: 'AbortError' });
    }
    await started;
    return { stdout: stdout.buffer(), stderr: stderr.buffer(), exitCode: engine.execs.inspect(Id).ExitCode ?? -1 };
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
    engine.execs.forget(Id);
  }
}

async function killUntilExited(engine: Engine, execId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    let info: { Running: boolean; Pid: number };
    try {
      info = engine.execs.inspect(execId) as { Running: boolean; Pid: number };
    } catch {
      return;
    }
    if (!info.Running) return;
    if (info.Pid) killPid(info.Pid);
    await sleep(50);
  }
}
