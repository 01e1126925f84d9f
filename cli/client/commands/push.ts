import { parseCommandArgs, requireArgs } from '../args.js';
import { splitPullRef } from '../image-ref.js';
import { JsonMessageRenderer, jsonMessages } from '../progress.js';
import type { Command } from '../context.js';

// berth has no credential store yet: `{}` is what the docker CLI sends without a login, and
// the daemon answers 400 without any X-Registry-Auth, as dockerd does.
const NO_AUTH = Buffer.from('{}').toString('base64');

/** `berth push [-a] [-q] NAME[:TAG]`: the daemon's progress, a bar per layer on a terminal. */
export const pushCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs('push', args, {
    'all-tags': { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
  });
  requireArgs('push', positionals, 1, 'berth push [OPTIONS] NAME[:TAG]');
  const ref = splitPullRef(positionals[0]!);
  if (ref.tag.startsWith('sha256:')) throw new Error('cannot push a digest reference');
  const all = values['all-tags'] === true;
  if (all && !ref.defaultTag) throw new Error('tag can\'t be used with --all-tags/-a');
  if (!all && ref.defaultTag) ctx.stdout.write('Using default tag: latest\n');
  const quiet = values.quiet === true;
  const res = await ctx.api.request('POST', `/images/${ref.fromImage}/push`, { query: all ? {} : { tag: ref.tag }, headers: { 'X-Registry-Auth': NO_AUTH } });
  const out = ctx.stdout;
  const renderer = new JsonMessageRenderer(quiet ? { write: () => true } : out, !quiet && out.isTTY === true, out.columns ?? 200);
  try {
    for await (const msg of jsonMessages(res)) renderer.render(msg);
  } finally {
    res.destroy();
  }
  if (quiet) out.write(`${all ? ref.fromImage : `${ref.fromImage}:${ref.tag}`}\n`);
  return 0;
};
