// An attached, non-TTY exec run by `runc exec` in the foreground, straight from the daemon. Its
// stream ends with the daemon anyway, so it needs no conmon of its own: runc hands our pipes to
// the process as its stdio (no copy in between), forwards signals to it, and exits with its
// status once it is gone. That saves conmon's start, its attach socket and its sync pipe
// round trips on every `docker exec` and health probe.
//
// Files, in a per-session dir beside conmon's sessions: process.json, runc's pid file and log,
// session.json (the container) and runc.pid, which let the next daemon end a session
// that lost its daemon (sweepExecSessions): its client is gone, so is its stream.
import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { constants } from 'node:os';
import { SystemError } from '../errors.js';
import type { OciProcess } from './oci-spec-types.js';
import { runtimeErrorText } from './runc.js';
import type { ExecProcess, RuntimeHandler } from './task-backend.js';

export interface RuncExecInput {
  runtime: RuntimeHandler;
  /** Global runtime flags (--root ...). */
  runtimeGlobalArgs: string[];
  containerId: string;
  /** Session dir; created here, removed once the session is over. */
  dir: string;
  process: OciProcess;
  /** Open a stdin pipe to the process (AttachStdin); else it reads /dev/null. */
  stdin: boolean;
}

const SESSION_FILE = 'session.json';
/** Output buffered per stream before the pipe stops being read. */
const OUTPUT_HIGH_WATER = 64 * 1024;

/** Written before runc starts, so that a session is never taken for a conmon one. */
interface SessionFile {
  containerId: string;
}
const RUNC_PID_FILE = 'runc.pid';

/** runc's argv for the session (exported for tests). */
export function runcExecArgs(input: Pick<RuncExecInput, 'runtime' | 'runtimeGlobalArgs' | 'containerId' | 'dir'>): string[] {
  return [
    ...input.runtimeGlobalArgs,
    ...input.runtime.args,
    // runc's own messages go to the log, not into the process' stderr (our pipe)
    '--log', join(input.dir, 'runc.log'),
    'exec',
    '--process', join(input.dir, 'process.json'),
    '--pid-file', join(input.dir, 'pid'),
    input.containerId,
  ];
}

async function readPid(dir: string, file = 'pid'): Promise<number> {
  try {
    const pid = Number.parseInt(await readFile(join(dir, file), 'utf8'), 10);
    return pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Resolves once the process runs (runc wrote its pid), or rejects with runc's error. */
export async function startRuncExec(input: RuncExecInput): Promise<ExecProcess> {
  const { dir } = input;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const session: SessionFile = { containerId: input.containerId };
  await Promise.all([
    writeFile(join(dir, 'process.json'), JSON.stringify({ ...input.process, terminal: false })),
    writeFile(join(dir, SESSION_FILE), JSON.stringify(session)),
  ]);
  // runc writes the pid file (through a rename) once the process runs: the start signal.
  let watcher: FSWatcher | undefined;
  let pidSeen!: () => void;
  const pidWritten = new Promise<void>((resolve) => (pidSeen = resolve));
  try {
    watcher = watch(dir, (_event, name) => {
      if (name === 'pid') pidSeen();
    });
    watcher.on('error', () => undefined);
  } catch {
    // no inotify: the start is known at runc's exit only (correct, just later for long execs)
  }

  const child = spawn(input.runtime.path, runcExecArgs(input), {
    stdio: [input.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  // Read at once into streams of our own: Node drains (and drops) a child's output that nobody
  // reads when the child exits, and a short exec exits before its client is connected. The pipe
  // keeps the backpressure: a paused client stream pauses the pipe, and the process waits.
  const stdout = new PassThrough({ highWaterMark: OUTPUT_HIGH_WATER });
  const stderr = new PassThrough({ highWaterMark: OUTPUT_HIGH_WATER });
  const stdin = child.stdin as Writable | null;
  stdin?.on('error', () => undefined);
  for (const [from, to] of [[child.stdout as Readable, stdout], [child.stderr as Readable, stderr]] as const) {
    from.on('error', () => undefined);
    from.pipe(to);
  }

  let spawnError: Error | undefined;
  // 'close': runc is gone and both output pipes have ended (every byte was read; a child the
  // process left behind holding its stdout keeps the session open, as it does with Docker).
  const closed = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve(-1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1)));
  });
  // for the sweep, which needs it only while runc has not written the process' pid yet
  if (child.pid) void writeFile(join(dir, RUNC_PID_FILE), String(child.pid)).catch(() => undefined);

  const started = await Promise.race([pidWritten.then(() => 'running' as const), closed.then(() => 'ended' as const)]);
  watcher?.close();
  const pid = await readPid(dir);
  if (started === 'ended' && pid === 0) {
    const log = await readFile(join(dir, 'runc.log'), 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (spawnError) throw new SystemError(`starting the runtime: ${spawnError.message}`);
    throw new SystemError(`OCI runtime exec failed: ${(runtimeErrorText(log) || 'unknown error').trim()}`);
  }
  return {
    pid,
    attach: {
      stdout,
      stderr,
      stdin,
      close() {
        stdin?.destroy();
        child.stdout?.destroy();
        child.stderr?.destroy();
        stdout.destroy();
        stderr.destroy();
      },
    },
    // the code is known now; the session's files go meanwhile
    exit: closed.then((code) => {
      void rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return code;
    }),
  };
}

/** Whether /proc says `pid` lives in the container's cgroup (not a recycled pid). */
async function inContainer(pid: number, containerId: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cgroup`, 'utf8')).includes(containerId);
  } catch {
    return false;
  }
}

/** Whether `pid` is still the runc that ran the session in `dir`. */
async function isSessionRunc(pid: number, dir: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(dir);
  } catch {
    return false;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Daemon start: sessions of runc-direct execs whose daemon died. Their clients went with it, so
 * their runc and process are ended (the container itself is left alone) and their dirs removed.
 * conmon sessions (detached and TTY execs) outlive the daemon: theirs go once the process is gone.
 */
export async function sweepExecSessions(execsDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(execsDir);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      const dir = join(execsDir, name);
      let session: SessionFile | undefined;
      try {
        session = JSON.parse(await readFile(join(dir, SESSION_FILE), 'utf8')) as SessionFile;
      } catch {
        session = undefined;
      }
      const pid = await readPid(dir, 'pid');
      if (session) {
        const runcPid = pid === 0 ? await readPid(dir, RUNC_PID_FILE) : 0;
        // The process first: runc reaps it and exits. Killing runc instead would leave the
        // process to the container's init, which may never reap it.
        if (pid > 0 && (await inContainer(pid, session.containerId))) kill(pid);
        else if (runcPid > 0 && (await isSessionRunc(runcPid, dir))) kill(runcPid);
      } else if (pid > 0) {
        // a conmon session: still running when its process is
        try {
          process.kill(pid, 0);
          return;
        } catch {
          // gone
        }
      }
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}
