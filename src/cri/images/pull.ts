// The one way the CRI front end pulls: through the cri block's per-registry mirrors (Docker's own
// pulls never use them), recorded under the name asked for. ImageService's PullImage and the pods
// module's sandbox image both come here (ctx.pullImage).
//
// kubelet sets no deadline on PullImage, so a registry that stops sending mid-pull would hold a
// pod's start forever: as containerd's image_pull_progress_timeout, a pull that reports no
// progress (a manifest, a blob's bytes, an unpacked layer) for that long is cancelled.
import type { Engine } from '../../engine/engine.js';
import type { CriConfig } from '../../engine/system/cri-config.js';
import { SystemError } from '../../errors.js';
import type { ImageRecord, RegistryAuth } from '../../images/types.js';

export type CriPull = (ref: string, opts?: { auth?: RegistryAuth; signal?: AbortSignal }) => Promise<ImageRecord>;

export function criPuller(engine: Engine, config: CriConfig): CriPull {
  const registry = engine.images.registry.withHostMirrors(config.registryMirrors);
  const idleMs = config.imagePullProgressTimeoutMs;
  return async (ref, opts = {}) => {
    if (idleMs <= 0) return engine.images.pull(ref, { auth: opts.auth, signal: opts.signal, progress: () => undefined, registry });
    const stalled = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stalled.abort(), idleMs);
    };
    arm();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stalled.signal]) : stalled.signal;
    try {
      return await engine.images.pull(ref, { auth: opts.auth, signal, progress: arm, registry });
    } catch (err) {
      if (stalled.signal.aborted && !opts.signal?.aborted) {
        throw new SystemError(`failed to pull image ${JSON.stringify(ref)}: cancelled after ${idleMs / 1000} s without progress (cri image-pull-progress-timeout)`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}
