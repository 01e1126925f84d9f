import { parseCommandArgs, requireArgs } from '../args.js';
import { DaemonError } from '../http.js';
import type { Command } from '../context.js';

export const rmCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs('rm', args, {
    force: { type: 'boolean', short: 'f' },
    volumes: { type: 'boolean', short: 'v' },
  });
  requireArgs('rm', positionals, 1, 'berth rm [OPTIONS] CONTAINER [CONTAINER...]');
  let failed = false;
  for (const name of positionals) {
    try {
      await ctx.api.call('DELETE', `/containers/${encodeURIComponent(name)}`, {
        query: { force: values['force'] === true, v: values['volumes'] === true },
      });
      ctx.stdout.write(`${name}\n`);
    } catch (err) {
      // Like docker, -f makes a missing container a no-op.
      if (values['force'] && err instanceof DaemonError && err.statusCode === 404) continue;
      if (!(err instanceof DaemonError)) throw err;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
};
