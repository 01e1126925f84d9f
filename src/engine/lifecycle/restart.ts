// restart (moby daemon/restart.go): stop a running container with the given timeout and signal,
// then start it; event `restart` after the start.
import { BerthError, NotModifiedError, SystemError, errorMessage } from '../../errors.js';
import type { ContainerService } from '../containers/service.js';
import { isRunning } from '../containers/service.js';

export async function restartContainer(svc: ContainerService, ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
  const c = svc.get(ref);
  try {
    if (isRunning(c)) {
      await svc.stop(c.id, opts).catch((err) => {
        if (!(err instanceof NotModifiedError)) throw err;
      });
    }
    await svc.start(c.id);
  } catch (err) {
    // moby wraps with fmt.Errorf, which keeps only the text; keep not-found and bad-input statuses.
    const msg = `Cannot restart container ${ref}: ${errorMessage(err)}`;
    if (err instanceof BerthError && !(err instanceof SystemError)) {
      const Ctor = err.constructor as new (m: string) => BerthError;
      throw new Ctor(msg);
    }
    throw new SystemError(msg);
  }
  svc.emit(c, 'restart');
}
