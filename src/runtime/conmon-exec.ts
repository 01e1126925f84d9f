// One exec session under its own conmon (conmon 2.1.6 `-e`): conmon runs `runc exec --detach
// --process <spec>` against the container and holds the process' stdio, like it does for the
// container. Its exit code comes back as the second JSON line on the sync pipe, written after
// conmon has drained the output to the attach socket and closed it — so once both the attach
// stream has ended and that line has arrived, every byte and the exit code are known.
//
// Files live in a per-session dir (conmon's bundle and persist dir): attach socket, ctl FIFO,
// process.json, pid file, `exit`. No --exit-dir: conmon names exit files after the container ID
// there, which would read as the container's own exit.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SystemError, errorMessage } from '../errors.js';
import { attachConmon } from './conmon-attach.js';
import { sendConmonCtl } from './conmon-ctl.js';
import type { OciProcess } from './oci-spec-types.js';
import { runtimeErrorText } from './runc.js';
import type { ExecProcess, RuntimeHandler, TaskAttach } from './task-backend.js';

export interface ConmonExecInput {
  conmonPath: string;
  runtime: RuntimeHandler;
  /** Global runtime flags (--root ...), passed through --runtime-arg. */
  runtimeGlobalArgs: string[];
  containerId: string;
  execId: string;
  /** Session dir; created here, removed once the session is over. */
  dir: string;
  process: OciProcess;
  /** Open a stdin pipe to the process (AttachStdin). */
  stdin: boolean;
  terminal: boolean;
  /** Connect to the process' stdio before it starts (false: detached, output discarded). */
  attach: boolean;
}

export function execConmonArgs(input: Omit<ConmonExecInput, 'conmonPath' | 'process'>): string[] {
  const { dir } = input;
  const args = ['--api-version', '1', '-e', '-c', input.containerId, '-u', input.execId, '-r', input.runtime.path];
  for (const arg of [...input.runtimeGlobalArgs, ...input.runtime.args]) args.push(`--runtime-arg=${arg}`);
  args.push(
    '-b', dir,
    '-p', join(dir, 'pid'),
    '-n', input.execId,
    '--persist-dir', dir,
    '--full-attach',
    '--exec-process-spec', join(dir, 'process.json'),
    // Exec output is not part of the container's log (Docker keeps it out too).
    '-l', 'none',
    '--log-level', 'error',
  );
  if (input.attach) args.push('--exec-attach');
  if (input.stdin) args.push('-i');
  if (input.terminal) args.push('-t');
  return args;
}

interface SyncMessage {
  data?: number;
  message?: string;
}

/** Splits a pipe's bytes into parsed JSON lines. */
function jsonLines(stream: Readable, onMessage: (msg: SyncMessage | null, raw: string) => void, onEnd: () => void): void {
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        onMessage(JSON.parse(line) as SyncMessage, line);
      } catch {
        onMessage(null, line);
      }
    }
  });
  stream.on('error', () => undefined);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
}

/** Spawns conmon for the session; resolves once the process runs (or rejects with runc's error). */
export async function startConmonExec(input: ConmonExecInput): Promise<ExecProcess> {
  const { dir } = input;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'process.json'), JSON.stringify(input.process));

  const child = spawn(input.conmonPath, execConmonArgs(input), {
    // its stray `oom` file (see conmon-backend.ts) stays in the session dir
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', ...(input.attach ? (['pipe'] as const) : [])],
    env: {
      ...process.env,
      _OCI_SYNCPIPE: '3',
      _OCI_STARTPIPE: '4',
      ...(input.attach ? { _OCI_ATTACHPIPE: '5' } : {}),
    },
  });
  child.unref();
  const stderr = child.stdio[2] as Readable;
  const sync = child.stdio[3] as Readable;
  const start = child.stdio[4] as unknown as NodeJS.WritableStream & { destroy(): void };
  const attachPipe = input.attach ? ((child.stdio as unknown as Readable[])[5]) : undefined;
  let errText = '';
  stderr.on('data', (d: Buffer) => (errText += d.toString()));
  stderr.on('error', () => undefined);
  (start as unknown as Readable).on('error', () => undefined);
  attachPipe?.on('error', () => undefined);

  // The sync pipe carries the pid, then (after output is drained) the exit code.
  let resolvePid!: (pid: number) => void;
  let rejectPid!: (err: Error) => void;
  const pidKnown = new Promise<number>((res, rej) => ((resolvePid = res), (rejectPid = rej)));
  pidKnown.catch(() => undefined); // awaited below; a failure before that point must not go unhandled
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((res) => (resolveExit = res));
  let stage: 'pid' | 'exit' | 'done' = 'pid';
  jsonLines(
    sync,
    (msg, raw) => {
      if (stage === 'pid') {
        if (msg && typeof msg.data === 'number' && msg.data > 0) {
          stage = 'exit';
          resolvePid(msg.data);
        } else {
          stage = 'done';
          const why = msg ? runtimeErrorText(msg.message ?? '') || msg.message || 'unknown error' : raw;
          rejectPid(new SystemError(`OCI runtime exec failed: ${why.trim()}`));
        }
      } else if (stage === 'exit') {
        stage = 'done';
        resolveExit(msg && typeof msg.data === 'number' ? msg.data : -1);
      }
    },
    () => {
      if (stage === 'pid') {
        stage = 'done';
        setImmediate(() => rejectPid(new SystemError(`conmon failed: ${errText.trim() || 'no sync message'}`)));
      } else if (stage === 'exit') {
        stage = 'done';
        // conmon went away without the exit line (killed): fall back to its exit file.
        void readExitFile(dir).then((code) => resolveExit(code ?? 137));
      }
    },
  );
  child.on('error', (err) => {
    if (stage === 'pid') {
      stage = 'done';
      rejectPid(new SystemError(`starting conmon: ${err.message}`));
    }
  });

  const release = () => start.write('0');
  let attach: TaskAttach | null = null;
  try {
    release();
    if (attachPipe) {
      // conmon says its attach socket is listening; connect, then let runc exec the process.
      await waitLine(attachPipe, pidKnown);
      attach = await attachConmon(dir, input.stdin);
      release();
    }
    const pid = await pidKnown;
    return {
      pid,
      attach,
      exit: exited.then(async (code) => {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
        return code;
      }),
    };
  } catch (err) {
    attach?.close();
    start.destroy();
    sync.destroy();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err instanceof SystemError ? err : new SystemError(errorMessage(err));
  } finally {
    stderr.destroy();
    attachPipe?.destroy();
  }
}

/** Resolves on the first line from `pipe`; rejects with `failure`'s error if that settles first. */
function waitLine(pipe: Readable, failure: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) {
        pipe.off('data', onData);
        resolve();
      }
    };
    pipe.on('data', onData);
    pipe.once('end', () => reject(new SystemError('conmon closed its attach pipe')));
    failure.then(
      () => undefined,
      (err: unknown) => reject(err as Error),
    );
  });
}

async function readExitFile(dir: string): Promise<number | null> {
  try {
    const n = Number.parseInt(await readFile(join(dir, 'exit'), 'utf8'), 10);
    return Number.isNaN(n) ? null : n;
  } catch {
    return null;
  }
}

/** Terminal resize through the session's ctl FIFO. */
export async function resizeConmonExec(dir: string, height: number, width: number): Promise<void> {
  await sendConmonCtl(dir, 1, height, width, 'resize exec session');
}
