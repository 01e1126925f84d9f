import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseCommandArgs, requireArgs } from '../args.js';
import { ByteProgress } from '../byte-progress.js';
import { copyTo } from '../write-all.js';
import type { Command } from '../context.js';

/** The docker CLI's ValidateOutputPath: the directory must exist and the path must not be one. */
async function validateOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  if (dir !== '' && dir !== '.') {
    const st = await stat(dir).catch(() => undefined);
    if (!st) throw new Error(`failed to save image: invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) throw new Error(`failed to save image: invalid output path: ${JSON.stringify(path)} is a directory`);
}

/**
 * `berth save [-o FILE] IMAGE...`: GET /images/get with every name. With -o the archive goes to
 * a temp file beside FILE, renamed into place once complete (as the docker CLI's CopyToFile), so
 * a failed save never leaves a truncated FILE. On a terminal a line counts the bytes written.
 */
export const saveCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs('save', args, {
    output: { type: 'string', short: 'o' },
    platform: { type: 'string' },
  });
  requireArgs('save', positionals, 1, 'berth save [OPTIONS] IMAGE [IMAGE...]');
  const output = values['output'] as string | undefined;
  if (output === undefined && ctx.stdout.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  if (output !== undefined) await validateOutputPath(output);
  const platform = values['platform'] as string | undefined;
  const res = await ctx.api.request('GET', '/images/get', { query: { names: positionals, platform } });
  // stdout carries the archive when there is no -o: the count goes to stderr then
  const progress = new ByteProgress(output === undefined ? ctx.stderr : ctx.stdout, `Saving ${positionals.join(', ')}`);
  try {
    if (output === undefined) {
      await copyTo(res, ctx.stdout, (n) => progress.add(n));
    } else {
      const tmp = join(dirname(output), `.berth_temp_${basename(output)}_${randomBytes(4).toString('hex')}`);
      try {
        await pipeline(res, progress.counter(), createWriteStream(tmp, { mode: 0o600 }) as Writable);
        await rename(tmp, output);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
  } finally {
    progress.done();
    res.destroy();
  }
  return 0;
};
