import { parseCommandArgs, requireArgs, UsageError } from '../args.js';
import { copyContainerOutput } from './output-copy.js';
import { toApiTimestamp } from '../time-arg.js';
import type { Command } from '../context.js';

export const logsCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs('logs', args, {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string', short: 'n' },
    timestamps: { type: 'boolean', short: 't' },
    since: { type: 'string' },
    until: { type: 'string' },
  });
  requireArgs('logs', positionals, 1, 'berth logs [OPTIONS] CONTAINER');
  if (positionals.length > 1) throw new UsageError('"berth logs" requires exactly 1 argument.', 'logs', 1);
  const tail = (values['tail'] as string | undefined) ?? 'all';
  if (tail !== 'all' && !/^-?\d+$/.test(tail)) throw new UsageError(`invalid argument "${tail}" for "-n, --tail" flag`, 'logs', 125);
  const timeArg = (name: 'since' | 'until'): string | undefined => {
    const value = values[name] as string | undefined;
    if (value === undefined) return undefined;
    try {
      return toApiTimestamp(value);
    } catch (err) {
      throw new UsageError((err as Error).message, 'logs', 125);
    }
  };
  const id = encodeURIComponent(positionals[0]!);
  const info = await ctx.api.json<{ Config?: { Tty?: boolean } }>('GET', `/containers/${id}/json`);
  const res = await ctx.api.request('GET', `/containers/${id}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      follow: values['follow'] === true,
      timestamps: values['timestamps'] === true,
      tail,
      since: timeArg('since'),
      until: timeArg('until'),
    },
  });
  await copyContainerOutput(ctx, res, info.Config?.Tty === true);
  return 0;
};
