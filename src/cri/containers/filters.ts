// ListContainers' and ListContainerStats' filters, as containerd applies them: an id or pod id
// that names an object by unique prefix is widened to its full id first; labels must all match.
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { ContainerFilter, ContainerStatsFilter } from './cri-types.js';
import { criMeta, criState } from './status.js';

/** The full id `ref` names among `ids` (exact, else a unique prefix); `ref` itself otherwise. */
export function widenId(ref: string, ids: Iterable<string>): string {
  let found: string | undefined;
  for (const id of ids) {
    if (id === ref) return id;
    if (id.startsWith(ref)) {
      if (found) return ref;
      found = id;
    }
  }
  return found ?? ref;
}

export function labelsMatch(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels[k] !== v) return false;
  return true;
}

/** `podIds`: every pod's id, to widen a pod id prefix. */
export function filterContainers(
  all: ContainerRecord[],
  filter: ContainerFilter | ContainerStatsFilter | undefined,
  podIds: Iterable<string>,
): ContainerRecord[] {
  if (!filter) return all;
  const id = filter.id ? widenId(filter.id, all.map((c) => c.id)) : '';
  const podId = filter.podSandboxId ? widenId(filter.podSandboxId, podIds) : '';
  // CONTAINER_CREATED is the enum's zero: a present ContainerStateValue without a state names it
  const state = 'state' in filter && filter.state ? (filter.state.state ?? 'CONTAINER_CREATED') : undefined;
  return all.filter(
    (c) =>
      (!id || c.id === id) &&
      (!podId || c.cri?.podId === podId) &&
      (!state || criState(c) === state) &&
      labelsMatch(criMeta(c).labels, filter.labelSelector),
  );
}
