// Pod sandboxes (CRI RunPodSandbox and friends): a row in `pods`, a dir of pod files (hostname,
// hosts, resolv.conf) under <data-root>/pods/<id>, and an infra engine container that holds the
// pod's namespaces. Whether a pod is READY is read from its infra container at each call, so a
// daemon restart (containers reconciled by the engine first) needs no pod state of its own.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { isRunning } from '../../engine/containers/model.js';
import { BerthError, InvalidParameterError, NotFoundError, NotModifiedError, SystemError, errorMessage } from '../../errors.js';
import { faultPoint } from '../../util/fault-point.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { CriAlreadyExistsError } from '../errors.js';
import { planInfraContainer } from './infra-container.js';
import { clampOomScoreAdj, ownOomFacts, SANDBOX_OOM_SCORE_ADJ } from './oom.js';
import { ensurePodNetwork, POD_NETWORK_NAME } from './pod-network.js';
import { resolvConfFromDns } from './resolv-conf.js';
import { podNamespaces, sandboxName, validateSandboxConfig, type PodSandboxConfigIn } from './sandbox-config.js';
import { PodStore, type PodRow } from './store.js';
import type { PodInfo, PodSandboxes } from './types.js';

export interface PodServiceDeps {
  engine: Engine;
  logger: Logger;
  sandboxImage: string;
  /** The pod network's subnet now (kubelet's pod CIDR may change it). */
  podSubnet: () => string;
  /** The CRI image path (mirrors, auth); the engine's own pull when absent. */
  pullImage?: (ref: string) => Promise<void>;
}

export class PodSandboxService implements PodSandboxes {
  private readonly store: PodStore;
  private readonly lock = new KeyedLock();
  private network?: Promise<string>;
  /** Start-up cleanup; every call waits for it. */
  readonly ready: Promise<void>;

  constructor(private readonly d: PodServiceDeps) {
    this.store = new PodStore(d.engine.db);
    this.ready = this.recover().catch((err) => d.logger.warn({ err }, 'cleaning up pods cut short failed'));
  }

  private get engine(): Engine {
    return this.d.engine;
  }

  podDir(id: string): string {
    return join(this.engine.config.dataRoot, 'pods', id);
  }

  // ---- PodSandboxes ----

  find(ref: string): PodInfo | undefined {
    const row = this.findRow(ref);
    return row && this.info(row);
  }

  get(ref: string): PodInfo {
    const p = this.find(ref);
    if (!p) throw new NotFoundError(`an error occurred when try to find sandbox: ${ref}: not found`);
    return p;
  }

  list(): PodInfo[] {
    return this.store.all().map((r) => this.info(r));
  }

  infraPid(ref: string): number {
    const row = this.findRow(ref);
    const c = row && this.infra(row);
    return c && isRunning(c) ? c.state.Pid : 0;
  }

  /** The PodSandboxConfig the pod was run with (PodSandboxStatus verbose). */
  config(id: string): PodSandboxConfigIn | undefined {
    return this.store.get(id)?.config;
  }

  /** The engine runtime the pod's handler names ('' is the daemon's default). */
  runtimeOf(p: PodInfo): string {
    return p.runtimeHandler || this.engine.config.defaultRuntime;
  }

  /** Full id, or a unique prefix of one. */
  private findRow(ref: string): PodRow | undefined {
    if (!ref) return undefined;
    const exact = this.store.get(ref);
    if (exact) return exact;
    const matches = this.store.all().filter((r) => r.id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  private infra(row: PodRow): ContainerRecord | undefined {
    if (!row.infraId) return undefined;
    try {
      // a full id finds CRI containers too, in the engine's map
      return this.engine.containers.get(row.infraId);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private info(row: PodRow): PodInfo {
    const c = this.infra(row);
    const ns = podNamespaces(row.config);
    const dir = this.podDir(row.id);
    const md = row.config.metadata ?? {};
    return {
      id: row.id,
      name: md.name ?? '',
      uid: md.uid ?? '',
      namespace: md.namespace ?? '',
      attempt: md.attempt ?? 0,
      state: row.state === 'ready' && c && isRunning(c) ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      createdAtNs: row.createdNs,
      labels: { ...(row.config.labels ?? {}) },
      annotations: { ...(row.config.annotations ?? {}) },
      runtimeHandler: row.runtimeHandler,
      infraContainerId: row.infraId,
      hostNetwork: ns.hostNetwork,
      hostIpc: ns.hostIpc,
      hostPid: ns.hostPid,
      pidMode: ns.pidMode,
      ...(ns.hostNetwork || !row.infraId ? {} : { netnsPath: this.engine.networks.netnsPath(row.infraId) }),
      ...(row.ip ? { ip: row.ip } : {}),
      additionalIps: [],
      hostname: row.config.hostname ?? '',
      etc: { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') },
      ...(!ns.hostIpc && row.infraId ? { shmPath: join(this.engine.containers.bundleDir(row.infraId), 'shm') } : {}),
      ...(row.config.logDirectory ? { logDirectory: row.config.logDirectory } : {}),
      cgroupParent: row.config.linux?.cgroupParent ?? '',
      sysctls: { ...(row.config.linux?.sysctls ?? {}) },
      securityContext: row.config.linux?.securityContext ?? {},
    };
  }

  // ---- RunPodSandbox ----

  async run(config: PodSandboxConfigIn | undefined, runtimeHandler: string): Promise<string> {
    await this.ready;
    validateSandboxConfig(config);
    const runtime = this.resolveHandler(runtimeHandler);
    const nameKey = sandboxName(config.metadata);
    const taken = this.store.byNameKey(nameKey);
    if (taken) throw new CriAlreadyExistsError(`failed to reserve sandbox name "${nameKey}": name "${nameKey}" is reserved for "${taken.id}"`);
    const ns = podNamespaces(config);
    const resolvConf = resolvConfFromDns(config.dnsConfig);
    const seccompProfile = await this.localhostProfile(config);
    await this.ensureImage(this.d.sandboxImage);
    const network = ns.hostNetwork ? '' : await this.podNetwork();

    const id = randomBytes(32).toString('hex');
    const row: PodRow = {
      id,
      nameKey,
      createdNs: (BigInt(Date.now()) * 1_000_000n).toString(),
      runtimeHandler,
      infraId: '',
      state: 'creating',
      ip: '',
      config,
    };
    return this.lock.run(id, async () => {
      try {
        this.store.insert(row);
        faultPoint('pod.after-row');
      } catch (err) {
        if (String(err).includes('UNIQUE constraint failed')) throw new CriAlreadyExistsError(`failed to reserve sandbox name "${nameKey}": name is reserved`);
        throw err;
      }
      try {
        const dir = this.podDir(id);
        const hostname = ns.hostNetwork ? osHostname() : config.hostname || osHostname();
        await mkdir(dir, { recursive: true, mode: 0o711 });
        const etc = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
        // containerd's sandbox files: the hosts and (without DNSConfig) resolv.conf are the host's
        await Promise.all([
          writeFile(etc.hostname, `${hostname}\n`, { mode: 0o644 }),
          writeFile(etc.hosts, await readFile('/etc/hosts').catch(() => Buffer.from('127.0.0.1\tlocalhost\n')), { mode: 0o644 }),
          writeFile(etc.resolvConf, resolvConf ?? (await readFile('/etc/resolv.conf').catch(() => Buffer.from(''))), { mode: 0o644 }),
        ]);
        const plan = planInfraContainer({
          podId: id,
          config,
          image: this.d.sandboxImage,
          runtime,
          oomScoreAdj: await this.sandboxOomScoreAdj(),
          network,
          hostname,
          etc,
          seccompProfile,
        });
        const { Id } = await this.engine.containers.createInternal(plan.body, infraName(config, id), plan.extras);
        faultPoint('pod.after-infra-create');
        row.infraId = Id;
        this.store.save(row);
        await this.engine.containers.start(Id);
        faultPoint('pod.after-infra-start');
        const ep = ns.hostNetwork ? undefined : this.engine.networks.endpointsOf(Id).find((e) => e.ipAddress);
        row.ip = ep?.ipAddress ?? '';
        row.state = 'ready';
        this.store.save(row);
        return id;
      } catch (err) {
        await this.removeLocked(row).catch((e) => this.d.logger.warn({ err: e, pod: id }, 'undoing a failed RunPodSandbox failed'));
        if (err instanceof BerthError) throw err;
        throw new SystemError(`failed to run pod sandbox: ${errorMessage(err)}`);
      }
    });
  }

  /** '' is the default runtime; a name is a daemon.json `runtimes` entry (RuntimeClass handler). */
  private resolveHandler(handler: string): string {
    const { runtimes, defaultRuntime } = this.engine.config;
    if (!handler) return defaultRuntime;
    if (!runtimes[handler]) throw new InvalidParameterError(`failed to get sandbox runtime: no runtime for "${handler}" is configured`);
    return handler;
  }

  private async localhostProfile(config: PodSandboxConfigIn): Promise<string | undefined> {
    const sp = config.linux?.securityContext?.seccomp;
    if (!sp || !(sp.profileType === 'Localhost' || sp.profileType === 2)) return undefined;
    const ref = sp.localhostRef ?? '';
    if (!ref.startsWith('/')) throw new InvalidParameterError(`seccomp localhost profile must be an absolute path: ${JSON.stringify(ref)}`);
    try {
      return await readFile(ref, 'utf8');
    } catch (err) {
      throw new InvalidParameterError(`cannot load seccomp profile ${JSON.stringify(ref)}: ${errorMessage(err)}`);
    }
  }

  private async ensureImage(ref: string): Promise<void> {
    try {
      this.engine.images.get(ref);
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (this.d.pullImage) await this.d.pullImage(ref);
    else await this.engine.images.pull(ref, { progress: () => undefined });
  }

  /**
   * Checked at every run: the network is an engine network, which `docker network rm` or prune
   * may take while no pod uses it. One check at a time, so that two runs never both make it.
   */
  private podNetwork(): Promise<string> {
    const next = (this.network ?? Promise.resolve('')).catch(() => '').then(() => ensurePodNetwork(this.engine.networks, this.d.podSubnet(), this.d.logger));
    this.network = next;
    return next;
  }

  private async sandboxOomScoreAdj(): Promise<number> {
    const [adj, status] = await Promise.all([readFile('/proc/self/oom_score_adj', 'utf8').catch(() => '0'), readFile('/proc/self/status', 'utf8').catch(() => '')]);
    const { own, canLower } = ownOomFacts(adj, status);
    return clampOomScoreAdj(SANDBOX_OOM_SCORE_ADJ, own, canLower);
  }

  // ---- StopPodSandbox ----

  /** Kills the pod's containers and its infra (the network goes with it). Unknown ids are fine. */
  async stop(ref: string): Promise<void> {
    await this.ready;
    const row = this.findRow(ref);
    if (!row) return;
    await this.lock.run(row.id, async () => {
      for (const c of this.podContainers(row.id)) await this.stopContainer(c.id);
      if (row.infraId) await this.stopContainer(row.infraId);
      row.state = 'stopped';
      if (this.store.get(row.id)) this.store.save(row);
    });
  }

  private async stopContainer(id: string): Promise<void> {
    try {
      await this.engine.containers.stop(id, { timeout: 0 });
    } catch (err) {
      if (err instanceof NotModifiedError || err instanceof NotFoundError) return;
      throw err;
    }
  }

  /** The pod's workload containers (crictr's), not its infra. */
  private podContainers(podId: string): ContainerRecord[] {
    return this.engine.containers.listCri().filter((c) => c.cri?.podId === podId && c.cri.role !== 'sandbox');
  }

  // ---- RemovePodSandbox ----

  async remove(ref: string): Promise<void> {
    await this.ready;
    const row = this.findRow(ref);
    if (!row) return;
    await this.lock.run(row.id, () => this.removeLocked(row));
  }

  private async removeLocked(row: PodRow): Promise<void> {
    for (const c of this.podContainers(row.id)) await this.removeContainer(c.id);
    // an infra made by a run cut short before its id was saved is found by its pod id
    const infras = this.engine.containers.listCri().filter((c) => c.cri?.podId === row.id && c.cri.role === 'sandbox');
    for (const c of infras) await this.removeContainer(c.id);
    await rm(this.podDir(row.id), { recursive: true, force: true });
    if (this.store.get(row.id)) this.store.delete(row.id);
  }

  private async removeContainer(id: string): Promise<void> {
    try {
      await this.engine.containers.remove(id, { force: true, volumes: true });
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  // ---- daemon start ----

  /**
   * Runs cut short by a daemon's death are undone whole (a RunPodSandbox that never answered
   * leaves nothing, and kubelet's retry finds its name free): the row, its infra container and
   * files; so is an infra container whose row is gone.
   */
  private async recover(): Promise<void> {
    for (const row of this.store.all()) {
      if (row.state !== 'creating') continue;
      await this.lock.run(row.id, () => this.removeLocked(row));
      this.d.logger.warn({ pod: row.id, name: row.nameKey }, 'a RunPodSandbox was cut short by the last daemon; undone');
    }
    for (const c of this.engine.containers.listCri()) {
      if (c.cri?.role === 'sandbox' && !this.store.get(c.cri.podId)) await this.removeContainer(c.id);
    }
    // pod files whose row is gone (the row goes last, so only a failed removal leaves them)
    const dirs = await readdir(join(this.engine.config.dataRoot, 'pods')).catch(() => [] as string[]);
    for (const id of dirs) if (!this.store.get(id)) await rm(this.podDir(id), { recursive: true, force: true });
  }
}

/** The infra container's engine name: containerd's sandbox name, kept to Docker's name charset. */
function infraName(config: PodSandboxConfigIn, id: string): string {
  return `${sandboxName(config.metadata ?? {}).replace(/[^a-zA-Z0-9_.-]/g, '-')}_${id.slice(0, 8)}`;
}

export { POD_NETWORK_NAME };
