// dockerd's container lifecycle: create, start, stop, kill, wait, remove, and what happens on exit.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import {
  BerthError,
  ConflictError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  SystemError,
  errorMessage,
} from '../../errors.js';
import type { ImageServiceApi, SnapshotterApi } from '../../images/types.js';
import { buildSpec, cgroupsPathFor } from '../../runtime/oci-spec.js';
import type { RuntimeHandler, TaskBackend, TaskExit } from '../../runtime/task-backend.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import { resolveUser } from '../../runtime/user.js';
import { explainCapabilityFailure } from '../../runtime/capabilities.js';
import { hostSpecOptions, parseExtraHost, validateHostOptions } from './create-options.js';
import { lookupStartFacts } from './start-facts.js';
import { logRotation } from '../logs/config.js';
import { LogRotator } from '../logs/rotation.js';
import { mountShareableShm, unmountShareableShm } from './ipc-shm.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { AttachHub, type AttachOptions, type AttachSink } from './attach-hub.js';
import type { ContainerNetworking } from '../networks/types.js';
import { portWarnings } from '../networks/ports/index.js';
import type { ContainerVolumes } from '../volumes/types.js';
import { ZERO_TIME, isRunning, type ContainerRecord } from './model.js';
import type { ContainerStore } from './store.js';
import { mergeImageConfig, parseCreateRequest } from './create-request.js';
import { writeEtcFiles } from './etc-files.js';
import type { EventBus } from '../events/bus.js';
import { normaliseContainerName, randomContainerName } from './names.js';
import { readLogs, type LogEntry, type ReadLogsOptions } from '../logs/index.js';
import { restartDelay, restartsWithDaemon } from './restart-policy.js';
import { parseSignal } from './signals.js';
import { resourceLimits } from '../lifecycle/resources.js';
import { resumeAfterSignal } from '../lifecycle/pause.js';
import { settledAll } from '../../util/settled-all.js';
import { eachLimited } from '../../util/each-limited.js';
import { containersWithLeftovers } from './leftovers.js';
import { faultPoint } from '../../util/fault-point.js';
import { applyCriExtras, isDockerVisible, type CriContainerExtras } from './cri-extras.js';
import { ListCache } from './list-cache.js';


/** moby's daemon.Kill: how long a SIGKILLed container's exit may take before its processes are killed directly. */
const KILL_EXIT_WAIT_MS = 10_000;
/** ... and how long the exit may then take to be recorded (the engine's own exit handling). */
const DIRECT_KILL_EXIT_WAIT_MS = 15_000;
/** How long the daemon's start waits for the containers it restarts before it serves the API. */
const RESTORE_START_WAIT_MS = 15_000;
/** Stopped containers whose leftovers start-up looks for at once. */
const RECOVER_WIDTH = 32;
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * moby's Container.StopSignal: the config's StopSignal, SIGTERM when unset or unparsable. Only the
 * client's is checked at create; an image's is not, and must not make every `docker stop` a 400.
 */
function configuredStopSignal(name: string | undefined): number {
  try {
    return parseSignal(name || 'SIGTERM');
  } catch {
    return parseSignal('SIGTERM');
  }
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string };
}

export interface ContainerServiceDeps {
  store: ContainerStore;
  images: ImageServiceApi;
  snapshots: SnapshotterApi;
  backend: TaskBackend;
  events: EventBus;
  logger: Logger;
  dataRoot: string;
  runtimes: Record<string, RuntimeHandler>;
  defaultRuntime: string;
  networking: ContainerNetworking;
  volumes: ContainerVolumes;
}

const DEFAULT_STOP_TIMEOUT = 10;

export class ContainerService {
  /** Per-container lock; the lifecycle modules (lifecycle-*.ts) take it too. */
  readonly lock = new KeyedLock();
  /** 'exit:<id>' and 'removed:<id>' notifications for waiters inside the daemon. */
  private readonly signals = new EventEmitter();
  private readonly attach = new AttachHub();
  /** Names of creates between their check and their row's insert (awaits in between). */
  private readonly namesInFlight = new Set<string>();
  /** Pending policy restarts and the back-off each container is at. */
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly restartDelays = new Map<string, number>();
  private readonly logRotator: LogRotator;

  constructor(private readonly d: ContainerServiceDeps) {
    this.signals.setMaxListeners(0);
    this.logRotator = new LogRotator((id) => d.backend.reopenLog(id), d.logger);
    d.backend.onExit((exit) => {
      void this.handleExit(exit).catch((err) => d.logger.error({ err, id: exit.id }, 'handling container exit failed'));
    });
  }

  // ---- lookup ----

  /**
   * Full ID, exact name (with or without '/'), then unique ID prefix: moby's GetContainer order.
   * Names and prefixes find Docker's containers only; a full ID finds any (the CRI front end's
   * calls come by full ID).
   */
  get(ref: string): ContainerRecord {
    if (!ref) throw new NotFoundError('No such container: ');
    const byId = this.d.store.get(ref);
    if (byId) return byId;
    const idByName = this.d.store.idByName(ref.startsWith('/') ? ref : `/${ref}`);
    const named = idByName ? this.d.store.get(idByName) : undefined;
    if (named && isDockerVisible(named)) return named;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = this.d.store.all().filter((c) => c.id.startsWith(ref) && isDockerVisible(c));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw new NotFoundError(`No such container: ${ref}`);
  }

  /** Docker's containers: the CRI front end's are listed by listCri(). */
  list(): ContainerRecord[] {
    return this.d.store.all().filter(isDockerVisible);
  }

  listCri(): ContainerRecord[] {
    return this.d.store.all().filter((c) => c.cri !== undefined);
  }

  /** The JSON of GET /containers/json's entries, kept until the database changes (list-cache.ts). */
  readonly listCache = new ListCache(() => this.d.store.changes());

  bundleDir(id: string): string {
    return join(this.d.dataRoot, 'containers', id);
  }

  logPath(id: string): string {
    return this.d.store.get(id)?.cri?.logPath ?? join(this.bundleDir(id), 'container.log');
  }

  /** Whether a container uses the image, for rmi's conflict checks. */
  imageUser(imageId: string): { running: boolean; containerId: string } | null {
    let found: { running: boolean; containerId: string } | null = null;
    for (const c of this.d.store.all()) {
      if (c.imageId !== imageId) continue;
      const running = c.state.Status === 'running' || c.state.Status === 'paused' || c.state.Status === 'restarting';
      if (running) return { running, containerId: c.id };
      found ??= { running, containerId: c.id };
    }
    return found;
  }

  // ---- create ----

  async create(body: unknown, name: string | undefined): Promise<{ Id: string; Warnings: string[] }> {
    return this.createWith(body, name, undefined);
  }

  /**
   * The CRI front end's create: a Docker-shaped body (Config and HostConfig fields) plus what only
   * CRI says. Its network comes from `cri.join`, so Docker's networking is left out (NetworkMode
   * none or host); a pod's infra container (role sandbox) keeps the network it names: the pod
   * network is an engine network, plumbed, published and torn down as Docker's are.
   */
  async createInternal(body: { [key: string]: unknown; HostConfig?: Record<string, unknown> }, name: string, cri: CriContainerExtras): Promise<{ Id: string }> {
    const hostNetwork = body.HostConfig?.NetworkMode === 'host';
    const ownNetwork = cri.role === 'sandbox' && !hostNetwork && body.HostConfig?.NetworkMode;
    const hostConfig = { ...(body.HostConfig ?? {}), NetworkMode: ownNetwork || (hostNetwork ? 'host' : 'none'), RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } };
    const { Id } = await this.createWith({ ...body, HostConfig: hostConfig }, name, cri);
    return { Id };
  }

  private async createWith(body: unknown, name: string | undefined, cri: CriContainerExtras | undefined): Promise<{ Id: string; Warnings: string[] }> {
    const req = parseCreateRequest(body);
    if (!req.config.Image) throw new InvalidParameterError('config cannot be empty in order to create a container');
    const runtimeName = req.hostConfig.Runtime || this.d.defaultRuntime;
    if (!this.d.runtimes[runtimeName]) throw new InvalidParameterError(`unknown or invalid runtime name: ${runtimeName}`);
    req.hostConfig.Runtime = runtimeName;
    validateHostOptions(req.hostConfig, req.config);
    if (req.config.StopSignal) parseSignal(req.config.StopSignal);

    const image = this.d.images.get(req.config.Image);
    const config = mergeImageConfig(req.config, image.config.config);
    const fullName = name ? normaliseContainerName(name) : this.freeRandomName();
    const existing = this.d.store.idByName(fullName);
    if (!existing && this.namesInFlight.has(fullName)) {
      throw new ConflictError(`Conflict. The container name "${fullName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`);
    }
    if (existing) {
      throw new ConflictError(
        `Conflict. The container name "${fullName}" is already in use by container "${existing}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    if (!req.hostConfig.LogConfig.Type) req.hostConfig.LogConfig.Type = 'json-file';
    const id = randomBytes(32).toString('hex');
    const entry = config.Entrypoint ?? [];
    const cmd = config.Cmd ?? [];
    const argv = [...entry, ...cmd];
    const rec: ContainerRecord = {
      id,
      name: fullName,
      created: new Date().toISOString(),
      imageId: image.id,
      imageRef: req.config.Image,
      config,
      hostConfig: req.hostConfig,
      state: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      restartCount: 0,
      path: argv[0],
      args: argv.slice(1),
      ...(cri ? { cri } : {}),
    };
    // Networking decides the final NetworkMode, which the hostname depends on.
    await this.d.networking.prepareCreate(rec, req.networkingConfig);
    if (!config.Hostname) config.Hostname = rec.hostConfig.NetworkMode === 'host' ? '' : id.slice(0, 12);
    // reserved until the row exists, so that concurrent creates never pick the same name
    this.namesInFlight.add(fullName);
    try {
      await this.d.volumes.prepareCreate(rec);
      await Promise.all([mkdir(this.bundleDir(id), { recursive: true, mode: 0o710 }), this.d.snapshots.prepare(id, image.id)]);
      // copy-up happens at create, as Docker: the rootfs is mounted only while volumes need it
      let mounted = false;
      try {
        await this.d.volumes.populate(rec, () => {
          mounted = true;
          return this.d.snapshots.mount(id, image.id);
        });
      } finally {
        if (mounted) await this.d.snapshots.unmount(id);
      }
      faultPoint('create.before-row');
      this.d.store.insert(rec);
      faultPoint('create.after-row');
    } catch (err) {
      await this.d.volumes.abandonCreate(rec).catch((e) => this.d.logger.warn({ err: e, id }, 'undoing a failed create: volumes'));
      await this.d.networking.abandonCreate(rec).catch((e) => this.d.logger.warn({ err: e, id }, 'undoing a failed create: networks'));
      await this.d.snapshots.remove(id).catch(() => undefined);
      await rm(this.bundleDir(id), { recursive: true, force: true });
      if (String(err).includes('UNIQUE constraint failed: containers.name')) {
        throw new ConflictError(`Conflict. The container name "${fullName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`);
      }
      throw err;
    } finally {
      this.namesInFlight.delete(fullName);
    }
    // outside the undo above: the row is in (a crash before this is the volumes' recover()'s)
    try {
      this.d.volumes.created(rec);
    } catch (err) {
      this.d.logger.warn({ err, id }, 'recording the anonymous volumes of a create failed');
    }
    this.emit(rec, 'create');
    // No mount kept here (copy-up's is undone above): the rootfs is mounted at start and unmounted
    // at exit, as Docker does, so containers that never run hold no mount (each one makes the
    // host's mount table longer).
    return { Id: id, Warnings: portWarnings(rec.hostConfig) };
  }

  private freeRandomName(): string {
    for (let attempt = 0; ; attempt++) {
      const n = randomContainerName(attempt);
      if (!this.d.store.idByName(n) && !this.namesInFlight.has(n)) return n;
    }
  }

  // ---- start ----

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    // moby's ResetRestartManager: a user's start clears the count and the manual-stop mark.
    if (c.state.Status !== 'running' && c.state.Status !== 'paused') {
      this.cancelRestart(c);
      c.restartCount = 0;
      c.manuallyStopped = false;
    }
    try {
      await this.lock.run(c.id, () => this.startLocked(c));
    } catch (err) {
      // moby removes an AutoRemove container whose start failed, or `docker run --rm` waits forever.
      if (c.hostConfig.AutoRemove && !(err instanceof NotModifiedError) && this.d.store.get(c.id)) {
        await this.remove(c.id, { force: true, volumes: true }).catch((e) => this.d.logger.warn({ err: e, id: c.id }, 'auto-remove after failed start failed'));
      }
      throw err;
    }
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    if (!this.d.store.get(c.id)) throw new NotFoundError(`No such container: ${c.id}`);
    if (c.state.Status === 'running' || c.state.Status === 'paused') throw new NotModifiedError('container already started');
    if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${c.name.slice(1)} is already in progress`);
    const bundle = this.bundleDir(c.id);
    let created = false;
    let networked = false;
    try {
      const hostNetwork = c.hostConfig.NetworkMode === 'host';
      const hc = c.hostConfig;
      // The network (a netns spawn, then netavark in the background) and the shareable /dev/shm
      // need no rootfs: they run beside the snapshot's mount rather than after it.
      networked = true;
      const early = [
        (async () => {
          const attachment = await this.d.networking.setUp(c);
          const etc = await writeEtcFiles(bundle, {
            hostname: c.config.Hostname,
            domainname: c.config.Domainname,
            hostNetwork,
            dns: hc.Dns as string[] | undefined,
            dnsSearch: hc.DnsSearch as string[] | undefined,
            dnsOptions: hc.DnsOptions as string[] | undefined,
            extraHosts: ((hc.ExtraHosts as string[] | undefined) ?? []).map(parseExtraHost),
            ...attachment.etc,
          });
          return { attachment, etc };
        })(),
        hc.IpcMode === 'shareable' ? mountShareableShm(bundle, Number(hc.ShmSize) || 0) : Promise.resolve(undefined),
      ] as const;
      for (const p of early) p.catch(() => undefined); // read below; a rejection meanwhile is not unhandled
      const rootfs = await this.d.snapshots.mount(c.id, c.imageId).catch(async (err: unknown) => {
        // nothing is undone while a part is still making what the undo removes
        await Promise.allSettled(early);
        throw err;
      });
      faultPoint('start.after-mount');
      // allSettled: a part that fails must not leave another still reading the rootfs while
      // the failed start unmounts it (the user lookup holds fds in it)
      const [net, shm, user, facts, mounts] = await settledAll([
        early[0],
        early[1],
        resolveUser(rootfs, c.config.User, (hc.GroupAdd as string[] | undefined) ?? []),
        lookupStartFacts(c, (ref) => this.get(ref), (id) => this.bundleDir(id)),
        this.d.volumes.mountsForStart(c),
      ]);
      if (shm) facts.shm = shm;
      const etc = net.etc;
      const argv = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
      const [h, w] = c.hostConfig.ConsoleSize;
      const hostOptions = hostSpecOptions(hc, argv, mounts.binds, facts);
      const tmpfs = { ...hostOptions.tmpfs, ...mounts.tmpfs };
      if (c.cri?.logPath) await mkdir(dirname(c.cri.logPath), { recursive: true });
      const spec = buildSpec(applyCriExtras({
        rootfs,
        ...hostOptions,
        tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
        env: processEnv(c),
        cwd: c.config.WorkingDir || '/',
        user,
        terminal: c.config.Tty,
        consoleSize: c.config.Tty && h > 0 && w > 0 ? { height: h, width: w } : undefined,
        hostname: c.config.Hostname,
        domainname: c.config.Domainname || undefined,
        readonlyRootfs: c.hostConfig.ReadonlyRootfs,
        privileged: c.hostConfig.Privileged,
        capAdd: c.hostConfig.CapAdd ?? undefined,
        capDrop: c.hostConfig.CapDrop ?? undefined,
        securityOpt: c.hostConfig.SecurityOpt ?? undefined,
        network: net.attachment.network,
        etcFiles: { hosts: etc.hosts, resolvConf: etc.resolvConf, hostname: hostNetwork ? undefined : etc.hostname },
        cgroupsPath: cgroupsPathFor(c.id, c.cri?.cgroupParent || undefined),
        resources: resourceLimits(c.hostConfig),
      }, c.cri));
      const { pid } = await this.d.backend.create({
        id: c.id,
        bundle,
        spec,
        logPath: this.logPath(c.id),
        logDriver: c.hostConfig.LogConfig.Type === 'none' && !c.cri ? 'none' : 'k8s-file',
        stdin: c.config.OpenStdin,
        // moby closes a TTY's stdin never (detach and re-attach keep the shell usable)
        stdinOnce: c.config.StdinOnce && !c.config.Tty,
        terminal: c.config.Tty,
        runtime: this.d.runtimes[c.hostConfig.Runtime] ?? this.d.runtimes[this.d.defaultRuntime],
      });
      created = true;
      faultPoint('start.after-task-create');
      await this.attach.connectPending(c.id, () => this.d.backend.attach(c.id), c.config);
      // the network's plumbing ran beside the task's create; the process starts once it is done,
      // but a pod's infra process (it only holds the namespaces) starts beside it: RunPodSandbox
      // still answers once both are done
      if (c.cri?.role === 'sandbox') await settledAll([net.attachment.ready ?? Promise.resolve(), this.d.backend.start(c.id)]);
      else {
        await net.attachment.ready;
        await this.d.backend.start(c.id);
      }
      faultPoint('start.after-task-start');
      c.path = argv[0];
      c.args = argv.slice(1);
      c.state = { ...c.state, Status: 'running', Pid: pid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME };
      this.d.store.save(c);
      this.watchLog(c);
      this.emit(c, 'start');
    } catch (err) {
      const msg = errorMessage(err);
      this.attach.failPending(c.id);
      if (created) await this.d.backend.delete(c.id, { force: true }).catch(() => undefined);
      if (networked) await this.d.networking.release(c).catch((e) => this.d.logger.warn({ err: e, id: c.id }, 'network teardown after a failed start failed'));
      await this.d.volumes.released(c).catch((e) => this.d.logger.warn({ err: e, id: c.id }, 'volume release after a failed start failed'));
      await this.d.snapshots.unmount(c.id).catch(() => undefined);
      await unmountShareableShm(bundle).catch(() => undefined);
      const exitCode = /executable file not found|no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 128;
      c.state = { ...c.state, Status: c.state.StartedAt === ZERO_TIME ? 'created' : 'exited', Error: msg, ExitCode: exitCode };
      if (this.d.store.get(c.id)) this.d.store.save(c);
      if (exitCode !== 128) throw new InvalidParameterError(msg);
      if (err instanceof BerthError && !(err instanceof SystemError)) throw err;
      const wantsAll = c.hostConfig.Privileged || (c.hostConfig.CapAdd ?? []).some((cap) => cap.toUpperCase() === 'ALL');
      throw new SystemError(explainCapabilityFailure(msg, wantsAll));
    }
  }

  // ---- stop / kill ----

  async stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(ref);
    if (c.state.Status === 'restarting' && !(await this.haltRestart(c))) {
      this.emit(c, 'stop');
      return;
    }
    if (!isRunning(c)) throw new NotModifiedError('container already stopped');
    c.manuallyStopped = true;
    this.d.store.save(c);
    const signal = opts.signal ? parseSignal(opts.signal) : configuredStopSignal(c.config.StopSignal);
    const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const exited = this.nextExit(c.id);
    await this.signal(c, signal).catch((err) => this.d.logger.warn({ err, id: c.id }, 'stop signal failed'));
    faultPoint('stop.after-signal');
    const gracefully = timeout < 0 ? await exited.then(() => true) : await raceTimeout(exited, timeout * 1000);
    if (!gracefully && isRunning(c)) {
      await this.signal(c, 9).catch((err) => this.d.logger.warn({ err, id: c.id }, 'SIGKILL failed'));
      await this.killedExit(c, exited);
    } else if (!gracefully) {
      // the exit came as the timeout ran out and is being handled under the lock: stop answers
      // once its network is released, as it does otherwise (the ports are free for the next run)
      await this.lock.run(c.id, async () => undefined);
    }
    this.emit(c, 'stop');
  }

  async kill(ref: string, signalName?: string): Promise<void> {
    const c = this.get(ref);
    const signal = parseSignal(signalName || 'SIGKILL');
    if (!isRunning(c)) throw new ConflictError(`Cannot kill container: ${ref}: container ${c.id} is not running`);
    // A container waiting out its restart back-off has no process: the kill just ends the wait.
    if (c.state.Status === 'restarting' && !(await this.haltRestart(c))) return;
    c.manuallyStopped = true;
    this.d.store.save(c);
    const exited = signal === 9 ? this.nextExit(c.id) : undefined;
    await this.signal(c, signal).catch((err: unknown) => {
      // Exited meanwhile: moby's kill of a process already gone succeeds, and once the exit is
      // recorded the container is not running.
      if (!(err instanceof TaskNotRunningError)) throw err;
      if (!isRunning(c)) throw new ConflictError(`Cannot kill container: ${ref}: container ${c.id} is not running`);
    });
    // moby waits for a SIGKILLed container to be gone before answering.
    if (exited && !(await this.killedExit(c, exited))) throw new SystemError('tried to kill container, but did not receive an exit event');
  }

  /**
   * Waits for the exit of a container just sent SIGKILL, as moby's daemon.Kill: when the shim
   * has not reported it within 10 s (a starved machine, a stuck conmon), the container's processes
   * are killed directly and the backend reports the exit itself. False when no exit came.
   */
  private async killedExit(c: ContainerRecord, exited: Promise<void>): Promise<boolean> {
    if (await raceTimeout(exited, KILL_EXIT_WAIT_MS)) return true;
    if (!isRunning(c)) return true;
    this.d.logger.warn({ id: c.id }, 'container did not exit within 10 s of SIGKILL: killing its processes directly');
    await this.d.backend.killDirectly(c.id).catch((err) => this.d.logger.warn({ err, id: c.id }, 'direct kill failed'));
    return raceTimeout(exited, DIRECT_KILL_EXIT_WAIT_MS);
  }

  private async signal(c: ContainerRecord, signal: number): Promise<void> {
    this.emit(c, 'kill', { signal: String(signal) });
    // A client that stopped reading holds conmon, which could then never report this exit.
    if (signal === 9) this.attach.releaseStalled(c.id);
    await this.d.backend.kill(c.id, signal);
    // moby: a paused container gets the signal once thawed.
    if (c.state.Status === 'paused') await resumeAfterSignal(this, c);
  }

  // ---- wait ----

  /**
   * Validates now (throws before the caller flushes headers), returns the promise of the result.
   * `cancel` is the client going away: its listeners go with it (moby ends the wait with the
   * request's context), and the promise rejects.
   */
  waiter(ref: string, condition: string, cancel?: AbortSignal): () => Promise<WaitResult> {
    if (!['not-running', 'next-exit', 'removed', ''].includes(condition)) {
      throw new InvalidParameterError(`invalid condition: "${condition}"`);
    }
    const c = this.get(ref);
    const cond = (condition || 'not-running') as WaitCondition;
    const result = (): WaitResult => ({ StatusCode: c.state.ExitCode });
    if (cond === 'not-running' && !isRunning(c)) return async () => result();
    const names = cond === 'removed' ? [`removed:${c.id}`] : [`exit:${c.id}`, `removed:${c.id}`];
    const happened = new Promise<void>((resolve, reject) => {
      const forget = () => {
        for (const name of names) this.signals.off(name, done);
        cancel?.removeEventListener('abort', aborted);
      };
      const done = () => {
        forget();
        resolve();
      };
      const aborted = () => {
        forget();
        reject(new Error('wait cancelled: the client went away'));
      };
      if (cancel?.aborted) return aborted();
      for (const name of names) this.signals.on(name, done);
      cancel?.addEventListener('abort', aborted);
    });
    // Nobody may be awaiting yet when the client leaves.
    happened.catch(() => undefined);
    return () => happened.then(result);
  }

  private nextExit(id: string): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.signals.off(`exit:${id}`, done);
        this.signals.off(`removed:${id}`, done);
        resolve();
      };
      this.signals.on(`exit:${id}`, done);
      this.signals.on(`removed:${id}`, done);
    });
  }

  // ---- attach ----

  /** Output of the container's next (or current) run, and stdin when asked for; see AttachHub. */
  async attachStreams(ref: string, opts: AttachOptions, sink: AttachSink): Promise<void> {
    const c = this.get(ref);
    if (opts.stdin && !c.config.OpenStdin) opts = { ...opts, stdin: null };
    opts = { ...opts, onDetach: () => this.emit(c, 'detach') };
    this.emit(c, 'attach'); // moby logs every attach, docker run's included
    if (isRunning(c)) {
      await this.attach.connectNow(c.id, () => this.d.backend.attach(c.id), c.config, opts, sink);
    } else {
      this.attach.addPending(c.id, c.config, opts, sink);
    }
  }

  /** The container's log, as `docker logs` reads it; follow ends once the running container exits. */
  logs(ref: string, opts: Omit<ReadLogsOptions, 'stopped'>): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.get(ref);
    if (c.hostConfig.LogConfig.Type === 'none') throw new NotImplementedError('configured logging driver does not support reading');
    const stopped = isRunning(c) ? this.nextExit(c.id) : Promise.resolve();
    return { tty: c.config.Tty, entries: readLogs(this.logPath(c.id), { ...opts, stopped }) };
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.get(ref);
    // moby's errNotRunning, also when the task ends under us (conmon gone: its ctl FIFO has no reader)
    const notRunning = () => new TaskNotRunningError(c.id);
    if (!isRunning(c)) throw notRunning();
    await this.d.backend.resize(c.id, height, width).catch((err: unknown) => {
      throw err instanceof ConflictError ? notRunning() : err;
    });
  }

  // ---- exit ----

  private async handleExit(exit: TaskExit): Promise<void> {
    await this.lock.run(exit.id, async () => {
      const c = this.d.store.get(exit.id);
      if (!c) return;
      if (c.state.Status !== 'running' && c.state.Status !== 'paused') return;
      c.state = {
        ...c.state,
        Status: 'exited',
        Pid: 0,
        ExitCode: exit.exitCode,
        OOMKilled: exit.oomKilled,
        FinishedAt: exit.finishedAt.toISOString(),
      };
      this.d.store.save(c);
      faultPoint('exit.after-row');
      if (exit.oomKilled) this.emit(c, 'oom');
      const started = Date.parse(c.state.StartedAt);
      const execDuration = Number.isFinite(started) ? String(Math.max(0, Math.round((exit.finishedAt.getTime() - started) / 1000))) : '0';
      this.emit(c, 'die', { exitCode: String(exit.exitCode), execDuration });
      // The network goes before waiters learn of the exit, as moby's Cleanup precedes SetStopped:
      // `docker stop a; docker run -p 8080:80 b` (compose's recreate) needs a's ports free.
      await this.d.networking.release(c).catch((err) => this.d.logger.warn({ err, id: c.id }, 'network teardown failed'));
      // Waiters learn of the exit before the rest of the cleanup (as with moby, whose unmount
      // follows the die event); the lock is held until the cleanup is done, so whatever a waiter
      // does next (start, rm, cp) finds no runtime state and no mount left.
      this.signals.emit(`exit:${c.id}`);
      await this.releaseTask(c);
      this.scheduleRestart(c, Number.isFinite(started) ? exit.finishedAt.getTime() - started : 0);
    });
    const c = this.d.store.get(exit.id);
    if (c?.hostConfig.AutoRemove && c.state.Status === 'exited') {
      await this.remove(c.id, { force: false, volumes: true }).catch((err) => {
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) this.d.logger.error({ err, id: c.id }, 'auto-remove failed');
      });
    }
  }

  /**
   * The task is dead: its runtime state and the rootfs mount are independent, so both go at once.
   * The network is released before this by the callers (an exit releases it before waking waiters).
   */
  private async releaseTask(c: ContainerRecord): Promise<void> {
    const id = c.id;
    this.logRotator.unwatch(id);
    await Promise.all([
      this.d.volumes.released(c).catch((err) => this.d.logger.warn({ err, id }, 'volume release failed')),
      // force: the exit is known, so there is no state to ask runc about first
      this.d.backend.delete(id, { force: true }).catch((err) => this.d.logger.warn({ err, id }, 'runtime delete failed')),
      this.d.snapshots.unmount(id).catch((err) => this.d.logger.warn({ err, id }, 'unmount failed')),
      unmountShareableShm(this.bundleDir(id)).catch((err) => this.d.logger.warn({ err, id }, '/dev/shm unmount failed')),
    ]);
  }

  /** Rotation by berth for a running container whose log options ask for it. */
  private watchLog(c: ContainerRecord): void {
    const rotation = logRotation(c.hostConfig.LogConfig);
    if (rotation) this.logRotator.watch(c.id, this.logPath(c.id), rotation);
  }

  // ---- remove ----

  async remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const c = this.get(ref);
    if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${ref} is already in progress`);
    if (c.state.Status === 'restarting') {
      if (!opts.force) {
        throw new ConflictError(`cannot remove container "${c.name}": container is restarting: stop the container before removing or force remove`);
      }
      await this.haltRestart(c);
    }
    if (isRunning(c)) {
      if (!opts.force) {
        throw new ConflictError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`);
      }
      // Being removed: the exit this kill causes must not trigger the restart policy.
      c.manuallyStopped = true;
      const exited = this.nextExit(c.id);
      await this.signal(c, 9).catch((err) => this.d.logger.warn({ err, id: c.id }, 'SIGKILL before remove failed'));
      if (!(await this.killedExit(c, exited))) throw new SystemError(`could not kill running container ${c.id}, cannot remove`);
    }
    await this.lock.run(c.id, async () => {
      if (!this.d.store.get(c.id)) throw new NotFoundError(`No such container: ${ref}`);
      if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${ref} is already in progress`);
      if (isRunning(c)) throw new ConflictError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`);
      const previous = c.state.Status;
      c.state.Status = 'removing';
      if (opts.volumes) c.removeVolumes = true;
      // recorded (with -v): a daemon killed from here on finishes the removal at its next start
      this.d.store.save(c);
      try {
        await this.d.backend.delete(c.id, { force: true });
        await this.d.snapshots.remove(c.id);
        faultPoint('rm.after-snapshot');
        await rm(this.bundleDir(c.id), { recursive: true, force: true });
        // -v's volumes go while the row still says `removing`: a crash after the row left them to no one
        if (opts.volumes) await this.d.volumes.removed(c, true).catch((err) => this.d.logger.warn({ err, id: c.id }, 'removing volumes failed'));
        this.d.store.delete(c.id);
        faultPoint('rm.after-row');
      } catch (err) {
        c.state.Status = previous;
        delete c.removeVolumes;
        this.d.store.save(c);
        throw new SystemError(`unable to remove container ${c.id}: ${errorMessage(err)}`);
      }
      // The row is gone: what remains is the container's share of networks and volumes.
      await this.d.networking.removed(c).catch((err) => this.d.logger.warn({ err, id: c.id }, 'forgetting endpoints failed'));
      await this.d.volumes.removed(c, false).catch((err) => this.d.logger.warn({ err, id: c.id }, 'removing volumes failed'));
      this.attach.failPending(c.id);
      this.emit(c, 'destroy');
      this.signals.emit(`removed:${c.id}`);
    });
  }

  // ---- daemon start ----

  /** Reconcile rows with what the shim and runtime say after a daemon (re)start. */
  async recover(): Promise<void> {
    const all = this.d.store.all();
    const live = all.filter((c) => c.state.Status === 'running' || c.state.Status === 'paused').map((c) => c.id);
    const statuses = await this.d.backend.recover(live);
    const stillRunning = all.filter((c) => {
      const st = statuses.get(c.id);
      return st && (st.status === 'running' || st.status === 'paused');
    });
    await this.d.networking.recover(stillRunning);
    await this.d.volumes.recover(stillRunning);
    const stopped: ContainerRecord[] = [];
    const interruptedRemovals: ContainerRecord[] = [];
    for (const c of all) {
      if (c.state.Status === 'removing') {
        c.state.Status = 'dead';
        this.d.store.save(c);
        interruptedRemovals.push(c);
        continue;
      }
      if (c.state.Status !== 'running' && c.state.Status !== 'paused') {
        stopped.push(c);
        continue;
      }
      const st = statuses.get(c.id);
      if (st && (st.status === 'running' || st.status === 'paused')) {
        if (st.pid && st.pid !== c.state.Pid) {
          c.state.Pid = st.pid;
          this.d.store.save(c);
        }
        // frozen by a daemon that died mid-commit (it pauses while reading the upper dir) or mid-pause
        if (st.status === 'paused' && c.state.Status === 'running') {
          await this.d.backend.resume(c.id).catch((err) => this.d.logger.warn({ err, id: c.id }, 'thawing a container frozen by the last daemon failed'));
        }
        // thawed by a daemon that died before recording its unpause: the row says what runs
        if (st.status === 'running' && c.state.Status === 'paused') {
          c.state = { ...c.state, Status: 'running' };
          this.d.store.save(c);
        }
        // a rename recorded but not yet in aardvark-dns' records
        if (c.renamedFrom !== undefined) {
          await this.d.networking.renamed(c, c.renamedFrom).catch((err) => this.d.logger.warn({ err, id: c.id }, 'renaming DNS records after a rename cut short failed'));
          delete c.renamedFrom;
          this.d.store.save(c);
        }
        // a docker update recorded but never applied to the cgroup
        if (c.pendingLimits) {
          await this.d.backend.update(c.id, c.pendingLimits).catch((err) => this.d.logger.warn({ err, id: c.id }, 'applying an update cut short by the last daemon failed'));
          delete c.pendingLimits;
          this.d.store.save(c);
        }
        this.watchLog(c);
        continue;
      }
      const exit: TaskExit = st?.exit ?? { id: c.id, exitCode: 255, oomKilled: false, finishedAt: new Date() };
      if (!st?.exit) this.d.logger.warn({ id: c.id }, 'container vanished while the daemon was down; marking it exited (255)');
      await this.handleExit(exit);
    }
    // A daemon that died between recording an exit and its cleanup left both behind. The
    // network's leftovers are rows; the task's are files and mounts, looked for once for all
    // (leftovers.ts), so that thousands of stopped containers cost no file checks each.
    const leftovers = stopped.length > 0 ? await containersWithLeftovers(this.d.backend, this.d.dataRoot) : new Set<string>();
    await eachLimited(stopped, RECOVER_WIDTH, async (c) => {
      await this.d.networking.release(c).catch((err) => this.d.logger.warn({ err, id: c.id }, 'network teardown failed'));
      if (leftovers.has(c.id)) await this.releaseTask(c);
    });
    // dockerd's restore: containers whose policy brings them back with the daemon. Those that
    // died during the downtime were handled by handleExit above (with their real exit codes).
    // They start side by side, and the daemon waits for them only so long: a start that hangs
    // (a container's files are hostile) must never keep the API from listening.
    const starts: Promise<void>[] = [];
    for (const c of this.d.store.all()) {
      if (this.restartTimers.has(c.id)) continue;
      // A back-off the previous daemon was waiting out when it died.
      if (c.state.Status === 'restarting') {
        c.state.Status = 'exited';
        this.d.store.save(c);
      }
      if (c.state.Status !== 'exited' || c.state.StartedAt === ZERO_TIME || c.hostConfig.AutoRemove) continue;
      if (!restartsWithDaemon(c.hostConfig.RestartPolicy, c.state.ExitCode, c.manuallyStopped === true)) continue;
      starts.push(this.lock.run(c.id, () => this.startLocked(c)).catch((err) => this.d.logger.warn({ err, id: c.id }, 'restart with the daemon failed')));
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      Promise.allSettled(starts).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), RESTORE_START_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!waited) this.d.logger.warn({ waitMs: RESTORE_START_WAIT_MS }, 'containers restarting with the daemon are still starting; serving the API meanwhile');
    // A removal the last daemon began is finished: the container is gone, not half there.
    for (const c of interruptedRemovals) {
      await this.remove(c.id, { force: true, volumes: c.removeVolumes === true }).catch((err) => this.d.logger.warn({ err, id: c.id }, 'finishing an interrupted removal failed'));
    }
    // moby's restore: a --rm container that ran and is stopped (its exit recorded by a daemon
    // that died before removing it) goes, with its anonymous volumes
    for (const c of this.d.store.all()) {
      if (!c.hostConfig.AutoRemove || c.state.StartedAt === ZERO_TIME || (c.state.Status !== 'exited' && c.state.Status !== 'removing')) continue;
      let onRemoved = () => undefined as void;
      const removed = new Promise<void>((resolve) => this.signals.once(`removed:${c.id}`, (onRemoved = () => resolve())));
      await this.remove(c.id, { force: true, volumes: true }).catch((err) => {
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) this.d.logger.warn({ err, id: c.id }, 'auto-remove at start-up failed');
      });
      // the exit the runtime replays at start may have begun the same removal: served once it is gone
      if (this.d.store.get(c.id)) await raceTimeout(removed, 15_000);
      this.signals.off(`removed:${c.id}`, onRemoved);
    }
    // Snapshots and bundle dirs of containers that no longer have rows (a crash between steps
    // of create/remove: both are made before the row and removed before it goes).
    const known = new Set(this.d.store.all().map((c) => c.id));
    for (const id of await this.d.snapshots.list()) {
      if (!known.has(id)) await this.d.snapshots.remove(id).catch((err) => this.d.logger.warn({ err, id }, 'orphan snapshot removal failed'));
    }
    for (const id of await readdir(this.bundleDir('')).catch(() => [] as string[])) {
      if (/^[0-9a-f]{64}$/.test(id) && !known.has(id)) await rm(this.bundleDir(id), { recursive: true, force: true });
    }
  }

  /** The services this one was built with, for the lifecycle modules (lifecycle-*.ts, stats, top, prune). */
  get deps(): ContainerServiceDeps {
    return this.d;
  }

  /** Persist a record another engine module changed (health). */
  save(c: ContainerRecord): void {
    if (this.d.store.get(c.id)) this.d.store.save(c);
  }

  // ---- restart policy ----

  /** After an exit (under the container's lock): wait out the back-off in `restarting`, then start. */
  private scheduleRestart(c: ContainerRecord, ranMs: number): void {
    const delay = restartDelay({
      policy: c.hostConfig.RestartPolicy,
      exitCode: c.state.ExitCode,
      restartCount: c.restartCount,
      manuallyStopped: c.manuallyStopped === true,
      ranMs,
      previousDelayMs: this.restartDelays.get(c.id) ?? 0,
    });
    if (delay === null || c.hostConfig.AutoRemove) {
      this.restartDelays.delete(c.id);
      return;
    }
    this.restartDelays.set(c.id, delay);
    c.state.Status = 'restarting';
    this.d.store.save(c);
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.id);
      void this.policyStart(c);
    }, delay);
    this.restartTimers.set(c.id, timer);
  }

  private async policyStart(c: ContainerRecord): Promise<void> {
    try {
      await this.lock.run(c.id, async () => {
        if (!this.d.store.get(c.id) || c.state.Status !== 'restarting') return;
        if (c.manuallyStopped) {
          c.state.Status = 'exited';
          this.d.store.save(c);
          return;
        }
        c.restartCount++;
        await this.startLocked(c);
      });
    } catch (err) {
      this.d.logger.warn({ err, id: c.id }, 'restart by policy failed');
    }
  }

  /**
   * A user stops, kills or removes a container in `restarting`: no policy start may follow. Waits
   * for a policy start already under way; true when that start won (the container now runs).
   */
  private async haltRestart(c: ContainerRecord): Promise<boolean> {
    c.manuallyStopped = true;
    this.d.store.save(c);
    this.cancelRestart(c);
    await this.lock.run(c.id, async () => undefined);
    if (c.state.Status === 'restarting') {
      c.state.Status = 'exited';
      this.d.store.save(c);
    }
    return c.state.Status === 'running' || c.state.Status === 'paused';
  }

  /** Ends a pending policy restart; true when there was one (the container is now exited). */
  private cancelRestart(c: ContainerRecord): boolean {
    const timer = this.restartTimers.get(c.id);
    this.restartDelays.delete(c.id);
    if (!timer) return false;
    clearTimeout(timer);
    this.restartTimers.delete(c.id);
    if (c.state.Status === 'restarting') {
      c.state.Status = 'exited';
      this.d.store.save(c);
    }
    return true;
  }

  emit(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    // Docker's event stream is the moby namespace's, as containerd's events are per namespace
    if (!isDockerVisible(c)) return;
    this.d.events.emit('container', action, c.id, {
      ...c.config.Labels,
      image: c.imageRef,
      name: c.name.slice(1),
      ...extra,
    });
  }
}

export { isRunning } from './model.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** moby's CreateDaemonEnvironment: PATH and HOSTNAME (and TERM for a TTY), overridden by Config.Env. */
function processEnv(c: ContainerRecord): string[] {
  const env = new Map<string, string>();
  const hasPath = c.config.Env.some((e) => e.startsWith('PATH='));
  if (!hasPath) env.set('PATH', `PATH=${DEFAULT_PATH}`);
  env.set('HOSTNAME', `HOSTNAME=${c.config.Hostname || ''}`);
  if (c.config.Tty) env.set('TERM', 'TERM=xterm');
  for (const e of c.config.Env) {
    const k = e.split('=')[0];
    env.set(k, e.includes('=') ? e : `${e}=`);
  }
  return [...env.values()];
}

async function raceTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), t]);
  } finally {
    clearTimeout(timer);
  }
}
