// docker exec: moby's daemon/exec.go over TaskBackend.exec(). Exec instances live in memory, as
// in dockerd: an exited one stays inspectable for a few minutes (ExecStore), all go with their
// container, and a daemon restart forgets them.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../../errors.js';
import { allCapabilities, explainCapabilityFailure } from '../../runtime/capabilities.js';
import type { OciProcess, OciSpec } from '../../runtime/oci-spec-types.js';
import type { ExecProcess, TaskBackend } from '../../runtime/task-backend.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import { resolveUser } from '../../runtime/user.js';
import type { ContainerRecord } from '../containers/model.js';
import { isDockerVisible } from '../containers/cri-extras.js';
import type { EventBus } from '../events/bus.js';
import { execEnvironment } from './env.js';
import type { ExecCreateOptions, ExecStartOptions } from './request.js';
import { DEFAULT_DETACH_KEYS, DetachKeyMatcher } from './detach.js';
import { ExecStore } from './store.js';
import { faultPoint } from '../../util/fault-point.js';

/** How long an exited exec stays inspectable (moby: between one and two 5-minute GC ticks). */
const RETAIN_EXITED_MS = 5 * 60_000;

/** What ExecService needs from the container side. */
export interface ExecContainers {
  /** moby's GetContainer lookup; throws NotFoundError. */
  get(ref: string): ContainerRecord;
  bundleDir(id: string): string;
}

export interface ExecServiceDeps {
  containers: ExecContainers;
  backend: TaskBackend;
  events: EventBus;
  logger: Logger;
  /** Overrides RETAIN_EXITED_MS. */
  retainExitedMs?: number;
}

interface ExecRecord {
  id: string;
  containerId: string;
  running: boolean;
  /** Set once the process is gone (or failed to start); null before. */
  exitCode: number | null;
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  detachKeys: number[];
  entrypoint: string;
  args: string[];
  tty: boolean;
  consoleSize: [number, number] | null;
  privileged: boolean;
  user: string;
  workingDir: string;
  env: string[];
  pid: number;
  /** Set when start was called; settles once the process runs or failed to. */
  started?: Promise<ExecProcess | null>;
  process?: ExecProcess;
}

/** Where the hijacked connection's bytes go; the route frames them (stdcopy or raw). */
export interface ExecSink {
  /** Returns false when the client is slow; output then waits for onceDrain. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): boolean;
  onceDrain(cb: () => void): void;
}

export interface ExecStartIo {
  /** Client bytes for the process' stdin (the connection's read side), or null. */
  stdin: Readable | null;
  /** false: a TTY's stdin is not scanned for the detach keys (CRI: the client does its own). */
  detachKeys?: boolean;
  sink: ExecSink;
  /** Aborted when the client goes away: the process is killed, as moby does. */
  signal: AbortSignal;
}

/**
 * The exit code of an exec the runtime could not start, as moby 28's setExitCodeFromError reads
 * the runtime's error: 126 cannot be invoked, 127 not found, 128 anything else. An exec that
 * fails before the runtime is asked (its container stopped, its user unknown) gets 126, moby's
 * default (moby before 28.0 gave 126 to every failed start: it overwrote the runtime's code).
 */
export function runtimeStartFailureCode(message: string): number {
  const m = message.toLowerCase();
  if (m.includes('permission denied') || m.includes('is a directory')) return 126;
  if (m.includes('not a directory')) return 127;
  if (/executable file not found|no such file or directory|system cannot find the file specified|failed to run runc create\/exec call/.test(m)) return 127;
  return 128;
}

/** Exit code of an exec whose process could not be started before the runtime ran it. */
const EXIT_CANNOT_INVOKE = 126;

export class ExecService {
  private readonly execs: ExecStore<ExecRecord>;

  constructor(private readonly d: ExecServiceDeps) {
    this.execs = new ExecStore(d.retainExitedMs ?? RETAIN_EXITED_MS);
    d.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      // moby drops exec instances together with their container, and a stopped container's
      // execs that never ran (they cannot run any more).
      if (ev.Action === 'destroy') for (const e of this.execs.ofContainer(ev.Actor.ID)) this.execs.delete(e.id);
      else if (ev.Action === 'die') for (const e of this.execs.ofContainer(ev.Actor.ID)) if (!e.started) this.execs.delete(e.id);
    });
    const sweep = setInterval(() => this.execs.sweep(performance.now()), Math.min(60_000, this.execs.retainMs));
    sweep.unref();
  }

  /** Drops an exec's record now (health probes: nobody inspects them). */
  forget(id: string): void {
    this.execs.delete(id);
  }

  /** moby getActiveContainer: running, not paused, not restarting. */
  private activeContainer(ref: string): ContainerRecord {
    const c = this.d.containers.get(ref);
    const status = c.state.Status;
    if (status === 'paused') throw new ConflictError(`Container ${ref} is paused, unpause the container before exec`);
    if (status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
    if (status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    return c;
  }

  /**
   * Runs `fn` against a container that was active; when it fails, a container that stopped (its
   * rootfs unmounted, its bundle gone) meanwhile gets moby's answer for the state it reached
   * rather than whatever reading its files failed with.
   */
  private async whileActive<T>(ref: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TaskNotRunningError)) this.activeContainer(ref);
      throw err;
    }
  }

  /** moby getExecConfig: the exec, and its container must be running. */
  private execConfig(id: string): { e: ExecRecord; c: ContainerRecord } {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    let c: ContainerRecord;
    try {
      c = this.d.containers.get(e.containerId);
    } catch {
      throw new NotFoundError(`No such container: ${id}`);
    }
    if (c.state.Status === 'paused') throw new ConflictError(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.Status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
    if (c.state.Status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    return { e, c };
  }

  /** The running container's OCI spec as written at start: base of every exec process. */
  private async containerSpec(c: ContainerRecord): Promise<OciSpec> {
    try {
      return JSON.parse(await readFile(join(this.d.containers.bundleDir(c.id), 'config.json'), 'utf8')) as OciSpec;
    } catch (err) {
      throw new SystemError(`cannot read the spec of container ${c.id}: ${errorMessage(err)}`);
    }
  }

  private async resolveExecUser(c: ContainerRecord, spec: OciSpec, user: string) {
    const groupAdd = (c.hostConfig as unknown as { GroupAdd?: string[] | null }).GroupAdd ?? [];
    try {
      return await resolveUser(spec.root.path, user, groupAdd);
    } catch (err) {
      throw new InvalidParameterError(errorMessage(err));
    }
  }

  // ---- create ----

  async create(ref: string, opts: ExecCreateOptions, detachKeys: number[]): Promise<{ Id: string }> {
    if (opts.Cmd.length === 0) throw new InvalidParameterError('No exec command specified');
    const c = this.activeContainer(ref);
    // Look the user up now for an early error, as moby does.
    if (opts.User) {
      await this.whileActive(ref, async () => this.resolveExecUser(c, await this.containerSpec(c), opts.User));
      // An exit during the lookup has already dropped the container's execs: none may follow it.
      this.activeContainer(ref);
    }
    const e: ExecRecord = {
      id: randomBytes(32).toString('hex'),
      containerId: c.id,
      running: false,
      exitCode: null,
      openStdin: opts.AttachStdin,
      openStdout: opts.AttachStdout,
      openStderr: opts.AttachStderr,
      detachKeys,
      entrypoint: opts.Cmd[0]!,
      args: opts.Cmd.slice(1),
      tty: opts.Tty,
      consoleSize: opts.ConsoleSize,
      privileged: opts.Privileged,
      // a CRI container's exec runs as its process does (a Strict groups policy included)
      user: opts.User || (isDockerVisible(c) ? c.config.User : ''),
      workingDir: opts.WorkingDir || c.config.WorkingDir,
      env: execEnvironment(c.config, opts.Tty, opts.Env),
      pid: 0,
    };
    this.execs.add(e);
    this.emit(c, `exec_create: ${[e.entrypoint, ...e.args].join(' ')}`, { execID: e.id });
    return { Id: e.id };
  }

  // ---- start ----

  /**
   * Validates a start before the route answers (404/409 as JSON). moby checks the container
   * here and "already running/has run" after the upgrade; berth checks both up front.
   */
  checkStart(id: string): void {
    const { e } = this.execConfig(id);
    if (e.exitCode !== null) throw new ConflictError(`exec command ${e.id} has already run`);
    if (e.running || e.started) throw new ConflictError(`exec command ${e.id} is already running`);
  }

  /**
   * Runs the exec. Detached (io undefined): resolves once the process runs. Attached: resolves
   * after the output is drained and the exit code recorded, or when the client detached.
   */
  async start(id: string, opts: ExecStartOptions, io?: ExecStartIo): Promise<void> {
    const { e, c } = this.execConfig(id);
    this.checkStart(id);
    e.running = true;
    this.emit(c, `exec_start: ${[e.entrypoint, ...e.args].join(' ')}`, { execID: e.id });
    let proc: ExecProcess;
    const starting = this.spawn(e, c, opts, io !== undefined && (e.openStdin || e.openStdout || e.openStderr));
    e.started = starting.then(
      (p) => p,
      () => null,
    );
    try {
      proc = await starting;
    } catch (err) {
      e.running = false;
      e.exitCode ??= EXIT_CANNOT_INVOKE;
      this.execs.markExited(e.id, performance.now());
      this.emit(c, 'exec_die', { execID: e.id, exitCode: String(e.exitCode) });
      throw err;
    }
    e.process = proc;
    e.pid = proc.pid;
    const exited = proc.exit.then((code) => {
      e.running = false;
      e.exitCode = code;
      e.pid = proc.pid;
      this.execs.markExited(e.id, performance.now());
      this.emit(c, 'exec_die', { execID: e.id, exitCode: String(code) });
    });
    if (!io) return;
    if (!proc.attach) {
      await exited;
      return;
    }
    await this.pump(e, proc, io, exited);
  }

  private async spawn(e: ExecRecord, c: ContainerRecord, opts: ExecStartOptions, attach: boolean): Promise<ExecProcess> {
    return this.whileActive(c.id, () => this.spawnIn(e, c, opts, attach));
  }

  private async spawnIn(e: ExecRecord, c: ContainerRecord, opts: ExecStartOptions, attach: boolean): Promise<ExecProcess> {
    const spec = await this.containerSpec(c);
    const base = spec.process;
    // moby: the start body's size wins over create's; no console without a TTY.
    const size = e.tty ? (opts.ConsoleSize ?? e.consoleSize) : null;
    const process: OciProcess = {
      ...base,
      args: [e.entrypoint, ...e.args],
      env: e.env,
      cwd: e.workingDir || '/',
      terminal: e.tty,
      user: e.user ? await this.resolveExecUser(c, spec, e.user) : base.user,
    };
    delete process.consoleSize;
    if (size && size[0] > 0 && size[1] > 0) process.consoleSize = { height: size[0], width: size[1] };
    if (e.privileged) {
      const all = allCapabilities();
      process.capabilities = { ...base.capabilities, bounding: all, permitted: all, effective: all };
    }
    try {
      const proc = await this.d.backend.exec(c.id, { execId: e.id, process, stdin: attach && e.openStdin, terminal: e.tty, attach });
      faultPoint('exec.after-spawn');
      return proc;
    } catch (err) {
      // the container exited meanwhile: moby's 409, and the default exit code
      if (err instanceof TaskNotRunningError) throw err;
      const msg = errorMessage(err);
      const text = explainCapabilityFailure(msg.endsWith(': unknown') ? msg : `${msg}: unknown`, e.privileged);
      e.exitCode = runtimeStartFailureCode(msg);
      // moby: 126/127 are invalid-configuration errors (400), the rest unknown (500).
      throw e.exitCode === 128 ? new SystemError(text) : new InvalidParameterError(text);
    }
  }

  /** Client <-> process until the output ends (then the exit code is known) or the client detaches. */
  private pump(e: ExecRecord, proc: ExecProcess, io: ExecStartIo, exited: Promise<void>): Promise<void> {
    const task = proc.attach!;
    return new Promise<void>((resolve) => {
      let open = 2;
      let done = false;
      const finish = (waitExit: boolean) => {
        if (done) return;
        done = true;
        io.signal.removeEventListener('abort', onAbort);
        if (!waitExit) {
          task.close();
          resolve();
          return;
        }
        // conmon closes the attach socket before it reports the exit: wait for that report so
        // the CLI's inspect right after EOF sees the code.
        void exited.then(() => {
          task.close();
          resolve();
        });
      };
      // Set while output waits for a slow client: the task's streams are paused, and conmon
      // (so the process' output) waits with them.
      let stalled = false;
      const onAbort = () => {
        // moby kills the exec process when its client goes away.
        if (e.running && e.pid) {
          try {
            process.kill(e.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        finish(false);
      };
      io.signal.addEventListener('abort', onAbort, { once: true });
      const pumpOut = (from: Readable, name: 'stdout' | 'stderr', wanted: boolean) => {
        from.on('data', (chunk: Buffer) => {
          if (!wanted || done) return;
          if (!io.sink.write(name, chunk) && !stalled) {
            stalled = true;
            task.stdout.pause();
            task.stderr.pause();
            io.sink.onceDrain(() => {
              stalled = false;
              task.stdout.resume();
              task.stderr.resume();
            });
          }
        });
        from.once('end', () => {
          if (--open === 0) finish(true);
        });
        from.once('error', () => finish(true));
      };
      pumpOut(task.stdout, 'stdout', e.openStdout);
      pumpOut(task.stderr, 'stderr', e.openStderr);

      const stdin = io.stdin;
      const target = task.stdin;
      if (stdin && target) {
        target.on('error', () => undefined);
        const detach = e.tty && io.detachKeys !== false ? new DetachKeyMatcher(e.detachKeys.length > 0 ? e.detachKeys : DEFAULT_DETACH_KEYS) : null;
        stdin.on('data', (chunk: Buffer) => {
          if (done) return;
          let data = chunk;
          if (detach) {
            const r = detach.feed(chunk);
            if (r.detached) {
              if (r.pass.length > 0) target.write(r.pass);
              const c = this.d.containers.get(e.containerId);
              this.emit(c, 'exec_detach', { execID: e.id });
              finish(false);
              return;
            }
            data = r.pass;
            if (data.length === 0) return;
          }
          if (!target.write(data)) {
            stdin.pause();
            target.once('drain', () => stdin.resume());
          }
        });
        stdin.once('end', () => {
          // moby CloseStdin: without a TTY the process' stdin closes and output keeps flowing;
          // with a TTY the client's EOF ends the session's output.
          if (!e.tty) target.end();
          else finish(false);
        });
      } else {
        stdin?.resume();
      }
    });
  }

  // ---- resize ----

  async resize(id: string, height: number, width: number): Promise<void> {
    const { e, c } = this.execConfig(id);
    if (!e.started) {
      // moby waits up to 10 s for the exec to be started.
      const deadline = Date.now() + 10_000;
      while (!e.started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (!e.started) throw new SystemError('timeout waiting for exec session ready');
    }
    const proc = await e.started;
    if (!proc) throw new InvalidParameterError('exec process is not started');
    if (!e.running) throw new ConflictError(`exec ${e.id} is not running`);
    if (!e.tty) return;
    await this.d.backend.resizeExec(c.id, e.id, height, width);
  }

  // ---- inspect ----

  inspect(id: string) {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    try {
      this.d.containers.get(e.containerId);
    } catch {
      throw new NotFoundError(`No such exec instance: ${id}`);
    }
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: e.tty,
        entrypoint: e.entrypoint,
        arguments: e.args,
        privileged: e.privileged,
        ...(e.user ? { user: e.user } : {}),
      },
      OpenStdin: e.openStdin,
      OpenStderr: e.openStderr,
      OpenStdout: e.openStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      // []byte in Go: base64 in JSON.
      DetachKeys: Buffer.from(e.detachKeys).toString('base64'),
      Pid: e.pid,
    };
  }

  /** Container inspect's ExecIDs: execs not yet exited (moby's container.ExecCommands), or null. */
  idsFor(containerId: string): string[] | null {
    const ids = this.execs.liveIds(containerId);
    return ids.length > 0 ? ids : null;
  }

  private emit(c: ContainerRecord, action: string, extra: Record<string, string>): void {
    // a CRI container's execs (ExecSync) stay out of Docker's event stream, as the container does
    if (!isDockerVisible(c)) return;
    this.d.events.emit('container', action, c.id, { ...c.config.Labels, image: c.imageRef, name: c.name.slice(1), ...extra });
  }
}
