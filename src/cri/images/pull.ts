// The one way the CRI front end pulls: through the cri block's per-registry mirrors (Docker's own
// pulls never use them), recorded under the name asked for. ImageService's PullImage and the pods
// module's sandbox image both come here (ctx.pullImage).
import type { Engine } from '../../engine/engine.js';
import type { CriConfig } from '../../engine/system/cri-config.js';
import type { ImageRecord, RegistryAuth } from '../../images/types.js';

export type CriPull = (ref: string, opts?: { auth?: RegistryAuth; signal?: AbortSignal }) => Promise<ImageRecord>;

export function criPuller(engine: Engine, config: CriConfig): CriPull {
  const registry = engine.images.registry.withHostMirrors(config.registryMirrors);
  return (ref, opts = {}) => engine.images.pull(ref, { auth: opts.auth, signal: opts.signal, progress: () => undefined, registry });
}
