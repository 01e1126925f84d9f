// Finding the CRI front end's workload containers among the engine's: by full id or unique prefix
// (crictl passes prefixes through, containerd resolves them), never a Docker container or a pod's
// infra container.
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { NotFoundError } from '../../errors.js';

export function criContainers(engine: Engine): ContainerRecord[] {
  return engine.containers.listCri().filter((c) => c.cri?.role === 'container');
}

export function findCriContainer(engine: Engine, ref: string): ContainerRecord | undefined {
  if (!ref) return undefined;
  const all = criContainers(engine);
  const exact = all.find((c) => c.id === ref);
  if (exact) return exact;
  const matches = all.filter((c) => c.id.startsWith(ref));
  return matches.length === 1 ? matches[0] : undefined;
}

export function getCriContainer(engine: Engine, ref: string): ContainerRecord {
  const c = findCriContainer(engine, ref);
  if (!c) throw new NotFoundError(`an error occurred when try to find container ${JSON.stringify(ref)}: not found`);
  return c;
}
