// Pod sandbox RPCs (owned by the pods module): RunPodSandbox, StopPodSandbox, RemovePodSandbox,
// PodSandboxStatus, ListPodSandbox, PodSandboxStats, ListPodSandboxStats. It also sets ctx.pods.
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';
import { ConflictError } from '../../errors.js';
import { matchesFilter } from './filter.js';
import { podCidrV4 } from './pod-network.js';
import { matchesStatsFilter, podSandboxStats } from './stats.js';
import { PodSandboxService } from './service.js';
import { podSandboxListItem, podSandboxStatus, verboseInfo } from './views.js';

export async function podHandlers(ctx: CriContext): Promise<RuntimeHandlers> {
  const pods = new PodSandboxService({
    engine: ctx.engine,
    logger: ctx.logger.child({ layer: 'cri-pods' }),
    sandboxImage: ctx.config.sandboxImage,
    podSubnet: () => podCidrV4(ctx.podCidr) ?? ctx.config.podSubnet,
    // an absent sandbox image is pulled as PullImage pulls: through the CRI's per-registry mirrors
    pullImage: async (ref) => void (await ctx.pullImage(ref)),
  });
  ctx.pods = pods;
  await pods.ready;
  return {
    RunPodSandbox: async (req) => ({ podSandboxId: await pods.run(req.config, req.runtimeHandler ?? '') }),
    StopPodSandbox: async (req) => {
      await pods.stop(req.podSandboxId ?? '');
      return {};
    },
    RemovePodSandbox: async (req) => {
      await pods.remove(req.podSandboxId ?? '');
      return {};
    },
    PodSandboxStatus: async (req) => {
      const p = pods.get(req.podSandboxId ?? '');
      const row = pods.config(p.id);
      return {
        status: podSandboxStatus(p),
        info: req.verbose ? verboseInfo(p, { pid: pods.infraPid(p.id), image: ctx.config.sandboxImage, runtime: pods.runtimeOf(p), config: row }) : {},
        containersStatuses: [],
        timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
      };
    },
    ListPodSandbox: async (req) => ({ items: pods.list().filter((p) => matchesFilter(p, req.filter)).map(podSandboxListItem) }),
    PodSandboxStats: async (req) => {
      const p = pods.get(req.podSandboxId ?? '');
      // containerd's answer: a stopped pod has no cgroups or network left to read
      if (p.state !== 'SANDBOX_READY') throw new ConflictError(`failed to get pod sandbox stats since sandbox container ${JSON.stringify(p.id)} is not in ready state`);
      return { stats: await podSandboxStats(ctx.engine, p, pods.infraPid(p.id)) };
    },
    ListPodSandboxStats: async (req) => {
      const ready = pods.list().filter((p) => p.state === 'SANDBOX_READY' && matchesStatsFilter(p, req.filter));
      return { stats: await Promise.all(ready.map((p) => podSandboxStats(ctx.engine, p, pods.infraPid(p.id)))) };
    },
  };
}
