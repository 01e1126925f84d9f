import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parseCommandArgs, UsageError } from '../args.js';
import { ByteProgress } from '../byte-progress.js';
import { JsonMessageRenderer, jsonMessages } from '../progress.js';
import { copyTo } from '../write-all.js';
import type { Command } from '../context.js';

/**
 * `berth load [-i FILE] [-q]`: POST /images/load with the archive streamed from FILE or stdin.
 * As the docker CLI: refused when stdin is a terminal, quiet when stdout is not one. On a
 * terminal a line counts the bytes sent (against FILE's size), then the daemon's messages.
 */
export const loadCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs('load', args, {
    input: { type: 'string', short: 'i' },
    quiet: { type: 'boolean', short: 'q' },
    platform: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`"berth load" accepts no arguments.\n\nUsage:  berth load [OPTIONS]`, 'load', 1);
  const input = values['input'] as string | undefined;
  if (input === undefined && process.stdin.isTTY) throw new Error('requested load from stdin, but stdin is empty');
  const quiet = values['quiet'] === true || ctx.stdout.isTTY !== true;
  let source: Readable = process.stdin;
  let total = 0;
  if (input !== undefined) {
    try {
      total = (await stat(input)).size;
    } catch (err) {
      throw new Error(`open ${input}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    source = createReadStream(input);
  }
  const progress = new ByteProgress(values['quiet'] === true ? { write: () => true } : ctx.stdout, 'Sending archive', total);
  // the counter ends the progress line when the last byte has gone
  const counted = progress.counter();
  source.on('error', (err) => counted.destroy(err));
  const res = await ctx.api
    .upload('POST', '/images/load', source.pipe(counted), { query: { quiet, platform: values['platform'] as string | undefined } })
    .catch((err: unknown) => {
      progress.done();
      throw err;
    });
  try {
    if (!String(res.headers['content-type'] ?? '').includes('json')) {
      await copyTo(res, ctx.stdout);
      return 0;
    }
    const renderer = new JsonMessageRenderer(ctx.stdout, ctx.stdout.isTTY === true, ctx.stdout.columns ?? 200);
    for await (const msg of jsonMessages(res)) renderer.render(msg);
  } finally {
    res.destroy();
  }
  return 0;
};
