// Pod sandbox RPCs (owned by the pods module): RunPodSandbox, StopPodSandbox, RemovePodSandbox,
// PodSandboxStatus, ListPodSandbox, PodSandboxStats, ListPodSandboxStats. It also sets ctx.pods.
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';

export function podHandlers(_ctx: CriContext): RuntimeHandlers {
  return {};
}
