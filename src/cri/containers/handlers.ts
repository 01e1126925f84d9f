// Container RPCs of the CRI RuntimeService: create, start, stop, remove, list, status,
// ExecSync, ReopenContainerLog, stats, UpdateContainerResources. The mapping is in the other
// modules of this folder; this one looks things up and calls the engine.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';
import { CriAlreadyExistsError } from '../errors.js';
import { ConflictError, InvalidParameterError, NotFoundError, NotModifiedError, errorMessage } from '../../errors.js';
import { updateContainer } from '../../engine/lifecycle/update.js';
import type { ContainerConfig, ContainerFilter, ContainerStatsFilter, Int64, LinuxContainerResources } from './cri-types.js';
import { createPlan } from './create-plan.js';
import { execSync } from './exec-sync.js';
import { filterContainers } from './filters.js';
import { criContainers, findCriContainer, getCriContainer } from './lookup.js';
import { bindFromCri, resolveHostPath } from './mounts.js';
import { checkPropagations } from './propagation-check.js';
import { reopenContainerLog } from './reopen-log.js';
import { criResources, daemonOomScoreAdj } from './resources.js';
import { seccompChoice } from './security.js';
import { containerStats } from './stats.js';
import { criContainer, criContainerStatus, criState } from './status.js';

/** A Localhost seccomp profile is read at create, as containerd does (a later edit has no effect). */
const MAX_PROFILE_BYTES = 1024 * 1024;

const seconds = (v: Int64 | undefined): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

export function containerHandlers(ctx: CriContext): RuntimeHandlers {
  const engine = ctx.engine;

  async function readProfile(path: string): Promise<string> {
    let text: Buffer;
    try {
      text = await readFile(path);
    } catch (err) {
      throw new InvalidParameterError(`failed to read seccomp profile ${JSON.stringify(path)}: ${errorMessage(err)}`);
    }
    if (text.length > MAX_PROFILE_BYTES) throw new InvalidParameterError(`seccomp profile ${JSON.stringify(path)} is larger than 1 MiB`);
    return text.toString('utf8');
  }

  function resolveImage(name: string) {
    if (!name) throw new InvalidParameterError('container config must name an image');
    try {
      return engine.images.get(name);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`failed to resolve image ${JSON.stringify(name)}: not found`);
      throw err;
    }
  }

  /** The identity the container's process got (once started): its spec's user, as containerd reports it. */
  async function processUser(c: ContainerRecord): Promise<{ user?: object }> {
    let spec: { process?: { user?: { uid?: number; gid?: number; additionalGids?: number[] } } };
    try {
      spec = JSON.parse(await readFile(join(engine.containers.bundleDir(c.id), 'config.json'), 'utf8'));
    } catch {
      return {}; // never started: no spec yet
    }
    const u = spec.process?.user;
    if (!u) return {};
    return { user: { linux: { uid: String(u.uid ?? 0), gid: String(u.gid ?? 0), supplementalGroups: (u.additionalGids ?? []).map(String) } } };
  }

  async function create(req: { podSandboxId?: string; config?: ContainerConfig }) {
    const config = req.config;
    if (!config) throw new InvalidParameterError('container config is required');
    const pod = ctx.pods.get(req.podSandboxId ?? '');
    const image = resolveImage(config.image?.image ?? '');
    const sc = config.linux?.securityContext ?? {};
    const pidMode = sc.namespaceOptions?.pid;
    let targetPid: number | undefined;
    if (pidMode === 'TARGET') {
      const target = findCriContainer(engine, sc.namespaceOptions?.targetId ?? '');
      if (!target) throw new NotFoundError(`target container ${JSON.stringify(sc.namespaceOptions?.targetId ?? '')} not found`);
      targetPid = target.state.Pid || undefined;
    }
    const wanted = (config.mounts ?? []).map(bindFromCri);
    // the profile choice is checked before anything is made on the host
    const seccomp = sc.privileged ? undefined : seccompChoice(sc.seccomp, sc.seccompProfilePath);
    const seccompProfile = seccomp?.kind === 'localhost' ? await readProfile(seccomp.path) : undefined;
    const input = {
      config,
      pod,
      infraPid: ctx.pods.infraPid(pod.id),
      targetPid,
      image: { id: image.id, name: config.image?.image ?? '', config: image.config.config ?? {} },
      binds: wanted,
      seccompProfile,
      oomScoreAdjFloor: daemonOomScoreAdj(),
    };
    // a config that cannot be created is refused before missing host paths are made
    createPlan(input);
    const binds = [];
    for (const b of wanted) binds.push({ ...b, source: await resolveHostPath(b.source) });
    await checkPropagations(binds);
    const plan = createPlan({ ...input, binds });
    const taken = engine.containers.listCri().find((c) => c.name === `/${plan.name}`);
    if (taken) throw new CriAlreadyExistsError(`failed to reserve container name ${JSON.stringify(plan.name)}: name ${JSON.stringify(plan.name)} is reserved for ${JSON.stringify(taken.id)}`);
    try {
      const { Id } = await engine.containers.createInternal(plan.body, plan.name, plan.cri);
      return { containerId: Id };
    } catch (err) {
      if (err instanceof ConflictError && /already in use/.test(errorMessage(err))) {
        throw new CriAlreadyExistsError(`failed to reserve container name ${JSON.stringify(plan.name)}: ${errorMessage(err)}`);
      }
      throw err;
    }
  }

  return {
    CreateContainer: create,

    async StartContainer(req: { containerId?: string }) {
      const c = getCriContainer(engine, req.containerId ?? '');
      if (criState(c) !== 'CONTAINER_CREATED') throw new ConflictError(`container ${c.id} is in ${criState(c)} state`);
      // its namespaces are the pause process' (/proc/<pid>/ns/...): a stopped pod has none to join
      const pod = ctx.pods.find(c.cri?.podId ?? '');
      if (!pod || pod.state !== 'SANDBOX_READY') throw new ConflictError(`sandbox container of pod ${c.cri?.podId ?? ''} is not running`);
      await engine.containers.start(c.id);
      return {};
    },

    // Idempotent as the spec asks: an unknown or stopped container is OK.
    async StopContainer(req: { containerId?: string; timeout?: Int64 }) {
      const c = findCriContainer(engine, req.containerId ?? '');
      if (!c) return {};
      try {
        await engine.containers.stop(c.id, { timeout: Math.max(0, seconds(req.timeout)) });
      } catch (err) {
        if (!(err instanceof NotModifiedError) && !(err instanceof NotFoundError)) throw err;
      }
      return {};
    },

    // A running container is killed first (CRI's remove is forced); an unknown one is OK.
    async RemoveContainer(req: { containerId?: string }) {
      const c = findCriContainer(engine, req.containerId ?? '');
      if (!c) return {};
      try {
        await engine.containers.remove(c.id, { force: true, volumes: true });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      return {};
    },

    async ListContainers(req: { filter?: ContainerFilter }) {
      const found = filterContainers(criContainers(engine), req.filter, ctx.pods.list().map((p) => p.id));
      return { containers: found.map(criContainer) };
    },

    async ContainerStatus(req: { containerId?: string; verbose?: boolean }) {
      const c = getCriContainer(engine, req.containerId ?? '');
      const status = { ...criContainerStatus(c), ...(await processUser(c)) };
      const info: Record<string, string> = {};
      if (req.verbose) {
        info.info = JSON.stringify({ sandboxID: c.cri?.podId, pid: c.state.Pid, image: c.imageId, runtimeHandler: c.hostConfig.Runtime, privileged: c.hostConfig.Privileged });
      }
      return { status, info };
    },

    async UpdateContainerResources(req: { containerId?: string; linux?: LinuxContainerResources }) {
      const c = getCriContainer(engine, req.containerId ?? '');
      if (!req.linux) return {};
      const r = criResources(req.linux);
      await updateContainer(engine.containers, c.id, {
        Memory: r.Memory, MemorySwap: r.MemorySwap, CpuShares: r.CpuShares, CpuPeriod: r.CpuPeriod, CpuQuota: r.CpuQuota,
        CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems,
      });
      return {};
    },

    async ReopenContainerLog(req: { containerId?: string }) {
      await reopenContainerLog(engine, getCriContainer(engine, req.containerId ?? ''));
      return {};
    },

    async ExecSync(req: { containerId?: string; cmd?: string[]; timeout?: Int64 }, call) {
      const c = getCriContainer(engine, req.containerId ?? '');
      const r = await execSync(engine, c.id, req.cmd ?? [], seconds(req.timeout), call.signal);
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
    },

    async ContainerStats(req: { containerId?: string }) {
      return { stats: await containerStats(engine, getCriContainer(engine, req.containerId ?? '')) };
    },

    async ListContainerStats(req: { filter?: ContainerStatsFilter }) {
      const found = filterContainers(criContainers(engine), req.filter, ctx.pods.list().map((p) => p.id));
      return { stats: await Promise.all(found.map((c) => containerStats(engine, c))) };
    },
  };
}
