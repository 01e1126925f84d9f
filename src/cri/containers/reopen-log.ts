// ReopenContainerLog: conmon is asked to reopen its log file (kubelet has renamed the old one
// away), and the call returns only once the new file exists, as CRI-O waits: critest checks the
// path right after the call returns.
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { ConflictError, SystemError } from '../../errors.js';

const WAIT_MS = 3000;
const POLL_MS = 10;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function reopenContainerLog(engine: Engine, c: ContainerRecord): Promise<void> {
  if (c.state.Status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
  const path = engine.containers.logPath(c.id);
  await engine.containers.deps.backend.reopenLog(c.id);
  for (let waited = 0; waited < WAIT_MS; waited += POLL_MS) {
    if (await exists(path)) return;
    await sleep(POLL_MS);
  }
  throw new SystemError(`container ${c.id}: the log file ${path} was not reopened within ${WAIT_MS / 1000}s`);
}
