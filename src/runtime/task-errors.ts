// A task that is no longer running when a verb reaches the runtime: its process exited (the
// engine may not have recorded the exit yet) or its runtime state is already gone. moby answers
// a container in that state with errNotRunning, a 409; the engine words it per verb.
import { ConflictError } from '../errors.js';

export class TaskNotRunningError extends ConflictError {
  override name = 'TaskNotRunningError';
  constructor(readonly id: string) {
    // moby 28's errNotRunning / Container.GetRunningTask text
    super(`container ${id} is not running`);
  }
}
