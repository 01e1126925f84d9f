// TaskBackend on conmon + an OCI runtime (runc). One conmon per container: it runs
// `runc create`, holds stdio, writes the k8s-file log and the exit file, and outlives berth.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError, SystemError, errorMessage } from '../errors.js';
import { ociResourcesUpdate } from './cgroup-resources.js';
import { attachConmon } from './conmon-attach.js';
import { resizeConmonExec, startConmonExec } from './conmon-exec.js';
import { sendConmonCtl } from './conmon-ctl.js';
import { conmonArgs, type TaskPaths } from './conmon-args.js';
import { ExitWatcher, readExit } from './exit-watcher.js';
import { cgroupsPathFor, type ResourceLimits } from './oci-spec.js';
import { Runc, runtimeErrorText } from './runc.js';
import { startRuncExec, sweepExecSessions } from './runc-exec.js';
import { TaskNotRunningError } from './task-errors.js';
import { removeCgroupLeftovers } from './cgroup-leftovers.js';
import { killContainerDirectly } from './direct-kill.js';
import type {
  CreateTaskOptions,
  ExecOptions,
  ExecProcess,
  RuntimeHandler,
  TaskAttach,
  TaskBackend,
  TaskExit,
  TaskStatus,
} from './task-backend.js';

/** How often tasks are checked for a conmon that died without writing an exit. */
const MONITOR_CHECK_MS = 2000;
/** How long a directly killed init may take to die (it waits for its whole PID namespace). */
const DIRECT_KILL_WAIT_MS = 10_000;

export interface RuntimeLogger {
  debug(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface ConmonBackendOptions {
  /** berth's exec-root (/run/berth): runc state, exit files, per-task conmon files. */
  execRoot: string;
  logger: RuntimeLogger;
  conmonPath?: string;
}

/** What berth must remember about a task to drive it after a daemon restart. */
interface TaskRecord {
  id: string;
  bundle: string;
  runtime: RuntimeHandler;
  stdin: boolean;
  terminal: boolean;
}

export class ConmonBackend implements TaskBackend {
  private readonly execRoot: string;
  private readonly exitDir: string;
  private readonly tasksDir: string;
  private readonly conmonPath: string;
  private readonly logger: RuntimeLogger;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly runtimes = new Map<string, Runc>();
  private readonly exits: ExitWatcher;
  private watchStarting: Promise<void> | undefined;
  /** Looks for tasks whose conmon died without writing an exit (see checkMonitors). */
  private monitorTimer: NodeJS.Timeout | undefined;
  private readonly lostMonitors = new Set<string>();
  /** Tasks whose exit berth recorded itself (killDirectly): their conmon is no longer owed one. */
  private readonly killedDirectly = new Set<string>();

  constructor(opts: ConmonBackendOptions) {
    this.execRoot = opts.execRoot;
    this.exitDir = join(opts.execRoot, 'exits');
    this.tasksDir = join(opts.execRoot, 'tasks');
    this.conmonPath = opts.conmonPath ?? '/usr/bin/conmon';
    this.logger = opts.logger;
    // Startup path: plain sync mkdir is fine here.
    mkdirSync(this.exitDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    this.exits = new ExitWatcher({
      exitDir: this.exitDir,
      taskDir: (id) => this.taskDir(id),
      onError: (err) => this.logger.warn({ err }, 'exit watcher'),
    });
  }

  private taskDir(id: string): string {
    return join(this.tasksDir, id);
  }

  private paths(id: string, bundle: string, logPath: string): TaskPaths {
    const taskDir = this.taskDir(id);
    return {
      bundle,
      taskDir,
      exitDir: this.exitDir,
      containerPidFile: join(bundle, 'pidfile'),
      conmonPidFile: join(taskDir, 'conmon.pid'),
      logPath,
    };
  }

  /** One runc state root per runtime handler, all under the exec-root. */
  private runtimeFor(handler: RuntimeHandler): Runc {
    let runc = this.runtimes.get(handler.name);
    if (!runc) {
      const root = handler.name === 'runc' ? join(this.execRoot, 'runc') : join(this.execRoot, 'runtimes', handler.name);
      runc = new Runc(handler.path, root, handler.args);
      this.runtimes.set(handler.name, runc);
    }
    return runc;
  }

  private async record(id: string): Promise<TaskRecord> {
    let task = this.tasks.get(id);
    if (!task) {
      try {
        task = JSON.parse(await readFile(join(this.taskDir(id), 'task.json'), 'utf8')) as TaskRecord;
      } catch {
        throw new NotFoundError(`no such task: ${id}`);
      }
      this.tasks.set(id, task);
    }
    return task;
  }

  private ensureWatching(): Promise<void> {
    this.monitorTimer ??= setInterval(() => {
      void this.checkMonitors().catch((err) => this.logger.warn({ err }, 'checking conmon processes failed'));
    }, MONITOR_CHECK_MS).unref();
    this.watchStarting ??= this.exits.start().catch((err) => {
      this.watchStarting = undefined;
      throw err;
    });
    return this.watchStarting;
  }

  async create(opts: CreateTaskOptions): Promise<{ pid: number }> {
    const { id, bundle } = opts;
    const runc = this.runtimeFor(opts.runtime);
    const paths = this.paths(id, bundle, opts.logPath);
    const task: TaskRecord = { id, bundle, runtime: opts.runtime, stdin: opts.stdin, terminal: opts.terminal };
    const watching = this.ensureWatching();
    await Promise.all([
      mkdir(paths.taskDir, { recursive: true, mode: 0o700 }),
      writeFile(join(bundle, 'config.json'), JSON.stringify(opts.spec)),
      rm(join(this.exitDir, id), { force: true }),
      watching,
    ]);
    this.exits.forget(id);
    this.killedDirectly.delete(id);
    await writeFile(join(paths.taskDir, 'task.json'), JSON.stringify(task));
    this.tasks.set(id, task);

    const args = conmonArgs({
      id,
      runtime: opts.runtime,
      runtimeGlobalArgs: [`--root=${runc.root}`, '--log-format=json'],
      paths,
      stdin: opts.stdin,
      stdinOnce: opts.stdinOnce ?? true,
      terminal: opts.terminal,
      logDriver: opts.logDriver,
    });
    try {
      const pid = await this.spawnConmon(args, paths.taskDir);
      return { pid };
    } catch (err) {
      await this.cleanup(id, runc).catch((cleanupErr) => this.logger.warn({ err: cleanupErr, id }, 'cleanup after failed create'));
      throw err;
    }
  }

  /** Spawn conmon and wait for its first sync message: the container pid, or runc's error. */
  private spawnConmon(args: string[], cwd: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.conmonPath, args, {
        // conmon also drops an `oom` file in its working directory (CRI-O runs it in the bundle):
        // in the task dir it goes with the task, not into the daemon's cwd
        cwd,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
      });
      const stderr = child.stdio[2] as Readable;
      const sync = child.stdio[3] as Readable;
      const start = child.stdio[4] as unknown as NodeJS.WritableStream & { destroy(): void };
      let errText = '';
      let syncText = '';
      let settled = false;
      const finish = (err: Error | null, pid?: number) => {
        if (settled) return;
        settled = true;
        sync.destroy();
        stderr.destroy();
        start.destroy();
        child.unref();
        if (err) reject(err);
        else resolve(pid!);
      };
      child.on('error', (err) => finish(new SystemError(`starting conmon: ${err.message}`)));
      stderr.on('data', (d: Buffer) => (errText += d.toString()));
      stderr.on('error', () => {});
      sync.on('error', () => {});
      // A conmon that died before reading it: EPIPE here; the sync pipe's end reports the failure.
      start.on('error', () => {});
      sync.on('data', (d: Buffer) => {
        syncText += d.toString();
        const nl = syncText.indexOf('\n');
        if (nl < 0) return;
        let msg: { data?: number; message?: string };
        try {
          msg = JSON.parse(syncText.slice(0, nl)) as typeof msg;
        } catch {
          finish(new SystemError(`conmon sent an unreadable sync message: ${syncText.slice(0, nl)}`));
          return;
        }
        if (typeof msg.data === 'number' && msg.data > 0) finish(null, msg.data);
        else finish(new SystemError(`OCI runtime create failed: ${runtimeErrorText(msg.message ?? '') || 'unknown error'}`));
      });
      sync.on('end', () => {
        // No sync line: conmon died before running the runtime (bad flags, missing binary...).
        setImmediate(() => finish(new SystemError(`conmon failed: ${errText.trim() || 'no sync message'}`)));
      });
      // Nothing to do between spawn and runtime create (no cgroup to move conmon into): let it go.
      start.write('0');
    });
  }

  async start(id: string): Promise<void> {
    const task = await this.record(id);
    try {
      await this.runtimeFor(task.runtime).start(id);
    } catch (err) {
      throw new SystemError(`OCI runtime start failed: ${errorMessage(err)}`);
    }
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.onRunningTask(id, (runc) => runc.kill(id, typeof signal === 'string' ? signal.replace(/^SIG/i, '') : signal));
  }

  async killDirectly(id: string): Promise<void> {
    const task = await this.record(id);
    const [initPid, cgroupPath] = await Promise.all([
      readFile(join(task.bundle, 'pidfile'), 'utf8').then((t) => Number.parseInt(t, 10), () => 0),
      readFile(join(task.bundle, 'config.json'), 'utf8').then(
        (t) => (JSON.parse(t) as { linux?: { cgroupsPath?: string } }).linux?.cgroupsPath ?? cgroupsPathFor(id),
        () => cgroupsPathFor(id),
      ),
    ]);
    if (!(await killContainerDirectly(initPid, cgroupPath, DIRECT_KILL_WAIT_MS))) {
      throw new SystemError(`container ${id}: PID ${initPid} did not exit after SIGKILL`);
    }
    // The processes are gone: the exit is known whether or not conmon gets to write it. The
    // watcher reports each task's exit once, so conmon's own exit file, if it comes, is not news.
    const exit = await readExit(this.exitDir, this.taskDir(id), id);
    this.killedDirectly.add(id);
    this.exits.report(exit ?? { id, exitCode: 137, oomKilled: false, finishedAt: new Date() });
  }

  /**
   * A verb that needs the task running. The task may exit at any moment before or during the
   * runtime call, and the engine learns of it only once the exit file is read: a failure of a
   * task that is no longer running, or whose state is already gone, is a TaskNotRunningError.
   */
  private async onRunningTask<T>(id: string, op: (runc: Runc, task: TaskRecord) => Promise<T>): Promise<T> {
    let task: TaskRecord;
    try {
      task = await this.record(id);
    } catch (err) {
      throw err instanceof NotFoundError ? new TaskNotRunningError(id) : err;
    }
    try {
      return await op(this.runtimeFor(task.runtime), task);
    } catch (err) {
      if (err instanceof TaskNotRunningError) throw err;
      // runc's own view decides (a zombie init is already stopped to it), not its error's wording
      if (!(await this.isLive(id))) throw new TaskNotRunningError(id);
      throw err;
    }
  }

  /** Whether the task still runs (or is paused); true when that cannot be told, so the caller keeps its error. */
  private async isLive(id: string): Promise<boolean> {
    try {
      const { status, pid } = await this.status(id);
      if (status !== 'running' && status !== 'paused' && status !== 'created') return false;
      // runc calls an init running until it is a zombie; one that has begun to exit (it waits
      // for the rest of its PID namespace to die first, killing an exec joining it) is gone too
      return !(pid > 0 && (await isExiting(pid)));
    } catch {
      return true;
    }
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    let task: TaskRecord;
    try {
      task = await this.record(id);
    } catch (err) {
      if (err instanceof NotFoundError) {
        await rm(join(this.exitDir, id), { force: true });
        return;
      }
      throw err;
    }
    const runc = this.runtimeFor(task.runtime);
    if (!opts.force) {
      const state = await runc.state(id);
      if (state && (state.status === 'running' || state.status === 'paused')) {
        throw new ConflictError(`container ${id} is ${state.status}: stop it before deleting it`);
      }
    }
    await this.cleanup(id, runc);
  }

  /**
   * A task whose conmon is gone without an exit file (conmon killed) would never be reported as
   * exited: its process is killed and its exit reported (137), as containerd does when a shim dies.
   */
  private async checkMonitors(): Promise<void> {
    for (const id of await readdir(this.tasksDir).catch(() => [] as string[])) {
      if (this.lostMonitors.has(id)) continue;
      const dir = this.taskDir(id);
      const pid = Number.parseInt(await readFile(join(dir, 'conmon.pid'), 'utf8').catch(() => ''), 10);
      if (!(pid > 0) || (await isConmonAlive(pid)) || (await readExit(this.exitDir, dir, id))) continue;
      this.lostMonitors.add(id);
      const task = await this.record(id).catch(() => undefined);
      if (!task) continue;
      const runc = this.runtimeFor(task.runtime);
      const state = await runc.state(id).catch(() => null);
      if (!state || (state.status !== 'running' && state.status !== 'paused')) continue;
      this.logger.warn({ id, conmonPid: pid }, 'conmon of a running container is gone: killing the container');
      await runc.kill(id, 'KILL').catch((err) => this.logger.warn({ err, id }, 'killing a container whose conmon is gone failed'));
      this.exits.report({ id, exitCode: 137, oomKilled: false, finishedAt: new Date() });
    }
  }

  /** runc delete --force, wait for conmon to go, report its exit, remove berth's files. */
  private async cleanup(id: string, runc: Runc): Promise<void> {
    this.lostMonitors.delete(id);
    const killedDirectly = this.killedDirectly.delete(id);
    await runc.delete(id, true).catch(async (err) => {
      // a runtime that never made the container (missing, or failing at create) has no state to delete
      if (await access(join(runc.root, id)).then(() => true, () => false)) throw err;
    });
    const conmonPid = await this.conmonPid(id);
    if (conmonPid) await waitForExit(conmonPid, 5000);
    // A conmon that could not report its container's exit (stopped, stuck) has nothing left to
    // do: the exit is recorded and its container gone. Left alive, it could write that exit
    // later, into the next run's exit file.
    if (conmonPid && killedDirectly && (await isConmonAlive(conmonPid))) {
      this.logger.warn({ id, conmonPid }, 'conmon did not exit after its container was killed directly: killing it');
      try {
        process.kill(conmonPid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await waitForExit(conmonPid, 5000);
    }
    await removeCgroupLeftovers(cgroupsPathFor(id));
    const exit = await readExit(this.exitDir, this.taskDir(id), id);
    if (exit && this.exits.watching) this.exits.report(exit);
    await Promise.all([rm(this.taskDir(id), { recursive: true, force: true }), rm(join(this.exitDir, id), { force: true })]);
    this.tasks.delete(id);
  }

  async attach(id: string): Promise<TaskAttach> {
    const task = await this.record(id);
    return attachConmon(task.bundle, task.stdin);
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await this.onRunningTask(id, (_runc, task) => sendConmonCtl(task.bundle, 1, height, width, `resize container ${id}`));
  }

  async reopenLog(id: string): Promise<void> {
    const task = await this.record(id);
    await sendConmonCtl(task.bundle, 2, 0, 0, `reopen the log of container ${id}`);
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecProcess> {
    return this.onRunningTask(id, (runc, task) =>
      // An attached exec without a TTY needs no conmon: runc runs it with our pipes (runc-exec.ts).
      opts.attach && !opts.terminal
        ? startRuncExec({
            runtime: task.runtime,
            runtimeGlobalArgs: ['--root', runc.root, '--log-format', 'json'],
            containerId: id,
            dir: this.execDir(opts.execId),
            process: opts.process,
            stdin: opts.stdin,
          })
        : startConmonExec({
            ...opts,
            conmonPath: this.conmonPath,
            runtime: task.runtime,
            runtimeGlobalArgs: [`--root=${runc.root}`, '--log-format=json'],
            containerId: id,
            dir: this.execDir(opts.execId),
          }),
    );
  }

  async resizeExec(_id: string, execId: string, height: number, width: number): Promise<void> {
    await resizeConmonExec(this.execDir(execId), height, width);
  }

  /** Exec session dirs sit beside the task dirs: short paths for the attach socket. */
  private execDir(execId: string): string {
    return join(this.execRoot, 'execs', execId);
  }

  async pause(id: string): Promise<void> {
    await this.onRunningTask(id, (runc) => runc.pause(id));
  }

  async resume(id: string): Promise<void> {
    await this.onRunningTask(id, (runc) => runc.resume(id));
  }

  async update(id: string, resources: ResourceLimits): Promise<void> {
    await this.onRunningTask(id, (runc) => runc.update(id, ociResourcesUpdate(resources)));
  }

  async pids(id: string): Promise<number[]> {
    return this.onRunningTask(id, (runc) => runc.ps(id));
  }

  onExit(listener: (exit: TaskExit) => void): void {
    this.exits.onExit(listener);
    void this.ensureWatching().catch((err) => this.logger.error({ err }, 'cannot watch exits'));
  }

  private async conmonPid(id: string): Promise<number> {
    try {
      const pid = Number.parseInt(await readFile(join(this.taskDir(id), 'conmon.pid'), 'utf8'), 10);
      return pid > 0 && (await isConmonAlive(pid)) ? pid : 0;
    } catch {
      return 0;
    }
  }

  async status(id: string): Promise<TaskStatus> {
    let task: TaskRecord;
    try {
      task = await this.record(id);
    } catch {
      return { id, status: 'unknown', pid: 0 };
    }
    const [exit, conmonPid] = await Promise.all([
      readExit(this.exitDir, this.taskDir(id), id),
      this.conmonPid(id),
    ]);
    if (exit) return { id, status: 'stopped', pid: 0, exit };
    const state = await this.runtimeFor(task.runtime).state(id);
    if (!state) return { id, status: conmonPid ? 'unknown' : 'stopped', pid: 0 };
    const status = state.status === 'creating' ? 'created' : state.status;
    return { id, status, pid: status === 'stopped' ? 0 : state.pid };
  }

  async leftoverIds(): Promise<Set<string>> {
    const names = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    const [tasks, exits] = await Promise.all([names(this.tasksDir), names(this.exitDir)]);
    return new Set([...tasks, ...exits]);
  }

  async recover(ids: string[]): Promise<Map<string, TaskStatus>> {
    await this.ensureWatching();
    // exec sessions of a daemon that died: their clients are gone (see runc-exec.ts)
    await sweepExecSessions(join(this.execRoot, 'execs'));
    const result = new Map<string, TaskStatus>();
    await Promise.all(
      ids.map(async (id) => {
        const status = await this.status(id);
        result.set(id, status);
        if (status.exit) this.exits.report(status.exit);
      }),
    );
    // Exits that land between the scan above and the watch being live.
    await this.exits.scan();
    return result;
  }

  async close(): Promise<void> {
    clearInterval(this.monitorTimer);
    this.monitorTimer = undefined;
    await this.watchStarting?.catch(() => undefined);
    this.exits.close();
    this.watchStarting = undefined;
  }
}

/** /proc/<pid>/stat's command and the fields after it (state first); null when the process is gone. */
async function procStat(pid: number): Promise<{ comm: string; fields: string[] } | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command may hold spaces and parentheses: it ends at the last ')'
  const close = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** Whether the process has entered do_exit: PF_EXITING (0x4) in /proc/<pid>/stat's flags (field 9). */
async function isExiting(pid: number): Promise<boolean> {
  const st = await procStat(pid);
  if (!st) return true;
  const flags = Number(st.fields[6]);
  return st.fields[0] === 'Z' || st.fields[0] === 'X' || (Number.isFinite(flags) && (flags & 0x4) !== 0);
}

/**
 * Whether `pid` is a live conmon. Zombies count as dead: conmon is re-parented to PID 1 when
 * it detaches, and some inits (this VM's among them) reap orphans only every second or two.
 * Checking the name also guards against a recycled pid after a reboot-less daemon restart.
 */
async function isConmonAlive(pid: number): Promise<boolean> {
  const st = await procStat(pid);
  return st !== null && st.comm === 'conmon' && st.fields[0] !== 'Z' && st.fields[0] !== 'X';
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while ((await isConmonAlive(pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}
