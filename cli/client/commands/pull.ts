import { parseCommandArgs, requireArgs } from '../args.js';
import { splitPullRef } from '../image-ref.js';
import { JsonMessageRenderer, jsonMessages } from '../progress.js';
import type { Command, CommandContext, OutputStream } from '../context.js';

/**
 * Pulls `ref`, rendering the daemon's progress on `out` (a bar per layer on a terminal).
 * Throws JsonMessageError when the stream reports an error, DaemonError when the request fails.
 */
export async function pullImage(ctx: CommandContext, ref: string, out: OutputStream): Promise<string> {
  const pull = splitPullRef(ref);
  if (pull.defaultTag) out.write('Using default tag: latest\n');
  const res = await ctx.api.request('POST', '/images/create', { query: { fromImage: pull.fromImage, tag: pull.tag } });
  const renderer = new JsonMessageRenderer(out, out.isTTY === true, out.columns ?? 200);
  try {
    for await (const msg of jsonMessages(res)) renderer.render(msg);
  } finally {
    res.destroy();
  }
  return pull.canonical;
}

export const pullCommand: Command = async (ctx, args) => {
  const { positionals } = parseCommandArgs('pull', args, { quiet: { type: 'boolean', short: 'q' } });
  requireArgs('pull', positionals, 1, 'berth pull NAME[:TAG|@DIGEST]');
  const canonical = await pullImage(ctx, positionals[0]!, ctx.stdout);
  ctx.stdout.write(`${canonical}\n`);
  return 0;
};
