// POST /networks/prune (moby daemon/prune.go localNetworksPrune): removes the user-defined
// networks no container has an endpoint on, filtered by until and label/label!.
import { errorMessage } from '../../errors.js';
import { pruneFilter, type FilterMap } from './filters.js';
import type { NetworkRecord } from './model.js';
import { faultPoint } from '../../util/fault-point.js';

export interface PruneReport {
  /** Names, as moby reports them; null when nothing went. */
  NetworksDeleted: string[] | null;
}

export interface PrunableNetworks {
  list(): NetworkRecord[];
  /** A container has an endpoint on it (it runs). */
  inUse(n: NetworkRecord): boolean;
  remove(n: NetworkRecord): Promise<void>;
  /** A network that could not go (it gained an endpoint meanwhile...): logged, not fatal. */
  warn(n: NetworkRecord, message: string): void;
}

export async function pruneNetworks(target: PrunableNetworks, filters: FilterMap): Promise<PruneReport> {
  const keep = pruneFilter(filters);
  const report: PruneReport = { NetworksDeleted: null };
  for (const n of target.list()) {
    if (!keep(n, target.inUse(n))) continue;
    try {
      await target.remove(n);
    } catch (err) {
      target.warn(n, errorMessage(err));
      continue;
    }
    (report.NetworksDeleted ??= []).push(n.name);
    faultPoint('prune.after-network');
  }
  return report;
}
