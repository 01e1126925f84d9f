// The boundary between the engine and whatever shim runs containers (conmon + runc today).
// Modelled on containerd's runtime v2 task API so that another backend (shim v2 over ttrpc)
// can be added without touching the engine.
import type { Readable, Writable } from 'node:stream';
import type { OciProcess, OciSpec } from './oci-spec-types.js';
import type { ResourceLimits } from './oci-spec.js';

/** A named OCI runtime, like a Kubernetes RuntimeClass: `runc` -> /usr/sbin/runc. */
export interface RuntimeHandler {
  name: string;
  path: string;
  args: string[];
}

export interface CreateTaskOptions {
  /** Container ID (64 hex). Also the runc container ID. */
  id: string;
  /** Absolute bundle directory; the backend writes config.json into it. Kept short (sun_path). */
  bundle: string;
  spec: OciSpec;
  /** Where the shim writes the container's output in k8s-file format. */
  logPath: string;
  /** `none`: the shim keeps no log at all (attach still works). Default k8s-file. */
  logDriver?: 'k8s-file' | 'none';
  /** Keep a stdin pipe open to the container (Config.OpenStdin). */
  stdin: boolean;
  /**
   * Config.StdinOnce: the container's stdin closes when an attach connection ends (stdin.end()
   * or close()). Default true. With false, stdin stays open across attaches.
   */
  stdinOnce?: boolean;
  /** Allocate a pseudo-terminal (Config.Tty). */
  terminal: boolean;
  runtime: RuntimeHandler;
}

export interface TaskExit {
  id: string;
  exitCode: number;
  oomKilled: boolean;
  /** When the exit was recorded (mtime of the exit file). */
  finishedAt: Date;
}

export type TaskStatusName = 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

export interface TaskStatus {
  id: string;
  status: TaskStatusName;
  /** Container init PID on the host, 0 when not running. */
  pid: number;
  /** Present when the shim recorded an exit. */
  exit?: TaskExit;
}

/** One interactive connection to a running task's stdio. */
export interface TaskAttach {
  /** Container stdout (with a TTY: the merged terminal output). Ends when the task's output ends. */
  stdout: Readable;
  /** Container stderr (never carries data with a TTY). Ends with stdout. */
  stderr: Readable;
  /** Container stdin, or null when the task was created without stdin. end() closes the container's stdin. */
  stdin: Writable | null;
  /** Drop this connection without affecting the task. */
  close(): void;
}

/** An exec session's process, as TaskBackend.exec() starts it. */
export interface ExecOptions {
  /** 64-hex exec ID, unique per daemon. */
  execId: string;
  /** The full OCI process (args, env, cwd, user, terminal, capabilities...). */
  process: OciProcess;
  /** Open a stdin pipe to the process. */
  stdin: boolean;
  terminal: boolean;
  /** Connect to its stdio before it starts; false discards the output (detached exec). */
  attach: boolean;
}

export interface ExecProcess {
  pid: number;
  /** The process' stdio when attach was asked for; its streams end after the last byte. */
  attach: TaskAttach | null;
  /** Exit code; settles after all output was handed to `attach`. */
  exit: Promise<number>;
}

export interface TaskBackend {
  /** Spawn the shim and create (not start) the task; resolves once the runtime created it. */
  create(opts: CreateTaskOptions): Promise<{ pid: number }>;
  /** Start the created task's process. */
  start(id: string): Promise<void>;
  /** Send a signal (name like SIGTERM/TERM or number) to the task's init process. */
  kill(id: string, signal: string | number): Promise<void>;
  /**
   * The shim did not report a SIGKILLed task's exit in time (moby's killProcessDirectly): SIGKILL
   * the task's processes directly, wait until its init is gone, and report its exit through
   * onExit (once: the shim's own report, should it come later, is not reported again).
   */
  killDirectly(id: string): Promise<void>;
  /** Remove runtime state and shim files of a stopped task. Idempotent; force kills a live task first. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  /** Open a stdio connection. Call before start() to see every byte of output. */
  attach(id: string): Promise<TaskAttach>;
  /** Resize the task's terminal. */
  resize(id: string, height: number, width: number): Promise<void>;
  /** Make the shim reopen its log file at logPath (after the engine rotated it away). */
  reopenLog(id: string): Promise<void>;
  /** Run an extra process in the running task (docker exec); resolves once it runs. */
  exec(id: string, opts: ExecOptions): Promise<ExecProcess>;
  /** Resize an exec process' terminal. */
  resizeExec(id: string, execId: string, height: number, width: number): Promise<void>;
  /** Freeze every process of the task (cgroup freezer). */
  pause(id: string): Promise<void>;
  /** Thaw a paused task. */
  resume(id: string): Promise<void>;
  /** Apply new cgroup limits to the running task; limits left unset keep their value. */
  update(id: string, resources: ResourceLimits): Promise<void>;
  /** Host PIDs of every process in the task's cgroup. */
  pids(id: string): Promise<number[]>;
  /** Registers a listener called once per task exit (also for exits found by recover()). */
  onExit(listener: (exit: TaskExit) => void): void;
  /** What the shim and runtime know about a task now, used to reconcile after a daemon restart. */
  status(id: string): Promise<TaskStatus>;
  /** Begin watching for exits; reports exits that happened while nobody watched. */
  recover(ids: string[]): Promise<Map<string, TaskStatus>>;
  /** IDs of tasks with files left under the exec-root (a task dir, an unread exit file): what delete() would clean up. */
  leftoverIds(): Promise<Set<string>>;
  /** Stop watching (daemon shutdown). Leaves tasks running. */
  close(): Promise<void>;
}
