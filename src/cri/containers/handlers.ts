// Container RPCs (owned by the crictr module): create, start, stop, remove, list, status,
// ExecSync, ReopenContainerLog, stats, UpdateContainerResources.
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';

export function containerHandlers(_ctx: CriContext): RuntimeHandlers {
  return {};
}
