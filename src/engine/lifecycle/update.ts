// update (moby daemon/update.go): validate, merge into HostConfig, persist, event `update`, and
// apply the new limits to a running (or paused) container's cgroup; a failed apply restores the
// old HostConfig. A container that exits meanwhile keeps the update, as a stopped one does.
import { SystemError, errorMessage } from '../../errors.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import type { ContainerService } from '../containers/service.js';
import { mergeResourceUpdate, parseResourceUpdate, updateLimits, validateResourceUpdate } from './resources.js';
import { faultPoint } from '../../util/fault-point.js';

export async function updateContainer(svc: ContainerService, ref: string, body: unknown): Promise<{ Warnings: string[] }> {
  const u = parseResourceUpdate(body);
  validateResourceUpdate(u);
  const c = svc.get(ref);
  await svc.lock.run(c.id, async () => {
    if (c.state.Status === 'removing' || c.state.Status === 'dead') {
      throw new SystemError(`Cannot update container ${c.id}: container is marked for removal and cannot be "update"`);
    }
    const before = c.hostConfig;
    c.hostConfig = mergeResourceUpdate(c.id, before, u);
    const live = c.state.Status === 'running' || c.state.Status === 'paused';
    const limits = updateLimits(u, c.hostConfig);
    if (live) c.pendingLimits = limits;
    svc.deps.store.save(c);
    faultPoint('update.after-row');
    try {
      if (live) {
        await svc.deps.backend.update(c.id, limits);
        delete c.pendingLimits;
        if (svc.deps.store.get(c.id)) svc.deps.store.save(c);
      }
    } catch (err) {
      delete c.pendingLimits;
      // moby: a container that is not running is updated by storing the HostConfig alone
      if (err instanceof TaskNotRunningError) {
        if (svc.deps.store.get(c.id)) svc.deps.store.save(c);
        return;
      }
      c.hostConfig = before;
      if (svc.deps.store.get(c.id)) svc.deps.store.save(c);
      throw new SystemError(`Cannot update container ${c.id}: ${errorMessage(err)}`);
    } finally {
      svc.emit(c, 'update');
    }
  });
  return { Warnings: [] };
}
