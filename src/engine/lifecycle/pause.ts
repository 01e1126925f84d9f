// pause / unpause (moby daemon/pause.go, unpause.go): the cgroup freezer through the backend.
// A container that exits during the call gets the answer for the state it reached.
import { ConflictError, SystemError, errorMessage } from '../../errors.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import type { ContainerRecord } from '../containers/model.js';
import type { ContainerService } from '../containers/service.js';
import { faultPoint } from '../../util/fault-point.js';

export async function pauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const c = svc.get(ref);
  await svc.lock.run(c.id, async () => {
    if (c.state.Status === 'paused') throw new ConflictError(`Container ${c.id} is already paused`);
    if (c.state.Status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
    if (c.state.Status !== 'running') throw new TaskNotRunningError(c.id);
    try {
      await svc.deps.backend.pause(c.id);
    } catch (err) {
      if (err instanceof TaskNotRunningError) throw err;
      throw new SystemError(`cannot pause container ${c.id}: ${errorMessage(err)}`);
    }
    faultPoint('pause.after-freeze');
    c.state = { ...c.state, Status: 'paused' };
    svc.deps.store.save(c);
    svc.emit(c, 'pause');
  });
}

export async function unpauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const c = svc.get(ref);
  await svc.lock.run(c.id, async () => {
    // moby answers 500 here; a 409 says the same thing in the status clients can act on.
    if (c.state.Status !== 'paused') throw new ConflictError(`Container ${c.id} is not paused`);
    try {
      await svc.deps.backend.resume(c.id);
    } catch (err) {
      // exited (killed while frozen): moby's state is no longer paused once the exit is in
      if (err instanceof TaskNotRunningError) throw new ConflictError(`Container ${c.id} is not paused`);
      throw new SystemError(`Cannot unpause container ${c.id}: ${errorMessage(err)}`);
    }
    faultPoint('unpause.after-thaw');
    c.state = { ...c.state, Status: 'running' };
    svc.deps.store.save(c);
    svc.emit(c, 'unpause');
  });
}

/**
 * A signal sent to a paused container waits in the frozen cgroup; moby thaws it right after
 * kill so stop, kill and rm -f of a paused container work. No unpause event, as in moby.
 */
export async function resumeAfterSignal(svc: ContainerService, c: ContainerRecord): Promise<void> {
  try {
    await svc.deps.backend.resume(c.id);
  } catch (err) {
    if (!(err instanceof TaskNotRunningError)) svc.deps.logger.warn({ err, id: c.id }, 'cannot unpause container after signal');
    return;
  }
  if (c.state.Status === 'paused') {
    c.state = { ...c.state, Status: 'running' };
    if (svc.deps.store.get(c.id)) svc.deps.store.save(c);
  }
}
