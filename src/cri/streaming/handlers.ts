// Exec, Attach and PortForward RPCs (owned by the stream module): each returns a URL of the
// streaming server, which this module starts and records in ctx.streaming.
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';

export function streamingHandlers(_ctx: CriContext): RuntimeHandlers {
  return {};
}
