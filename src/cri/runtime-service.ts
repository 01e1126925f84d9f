// RuntimeService's handler map: each module contributes the RPCs it owns; a name no module
// provides answers UNIMPLEMENTED (server.ts).
import type { CriContext } from './context.js';
import type { RuntimeHandlers } from './handler-types.js';
import { containerHandlers } from './containers/handlers.js';
import { podHandlers } from './pods/handlers.js';
import { runtimeInfoHandlers } from './runtime-info.js';
import { streamingHandlers } from './streaming/handlers.js';

export async function runtimeServiceHandlers(ctx: CriContext): Promise<RuntimeHandlers> {
  const parts: [string, RuntimeHandlers][] = [
    ['runtime-info', runtimeInfoHandlers(ctx)],
    ['pods', await podHandlers(ctx)],
    ['containers', await containerHandlers(ctx)],
    ['streaming', await streamingHandlers(ctx)],
  ];
  const merged: Record<string, unknown> = {};
  const owner: Record<string, string> = {};
  for (const [name, handlers] of parts) {
    for (const [rpc, fn] of Object.entries(handlers)) {
      if (fn === undefined) continue;
      // two modules answering one RPC is a wiring bug, found at start-up rather than by a client
      if (owner[rpc]) throw new Error(`CRI RPC ${rpc} is provided by both ${owner[rpc]} and ${name}`);
      owner[rpc] = name;
      merged[rpc] = fn;
    }
  }
  return merged as RuntimeHandlers;
}
