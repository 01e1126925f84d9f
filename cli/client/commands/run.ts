import { parseCommandArgs, requireArgs } from '../args.js';
import { DaemonError } from '../http.js';
import { pullImage } from './pull.js';
import { copyContainerOutput } from './output-copy.js';
import type { Command, CommandContext } from '../context.js';

/** Errors of `berth run` itself (not of the container) exit like docker's: 125, or 126/127 for exec failures. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

interface CreateBody {
  Image: string;
  Cmd?: string[];
  Env?: string[];
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  HostConfig: { AutoRemove: boolean };
}

async function createContainer(ctx: CommandContext, body: CreateBody, name: string | undefined): Promise<string> {
  const create = () => ctx.api.json<{ Id: string; Warnings?: string[] }>('POST', '/containers/create', { query: { name }, body });
  let created;
  try {
    created = await create();
  } catch (err) {
    if (!(err instanceof DaemonError && err.statusCode === 404 && err.message.startsWith('No such image'))) throw err;
    ctx.stderr.write(`Unable to find image '${withTag(body.Image)}' locally\n`);
    await pullImage(ctx, body.Image, ctx.stderr);
    created = await create();
  }
  for (const warning of created.Warnings ?? []) ctx.stderr.write(`WARNING: ${warning}\n`);
  return created.Id;
}

function withTag(image: string): string {
  return image.includes('@') || image.lastIndexOf(':') > image.lastIndexOf('/') ? image : `${image}:latest`;
}

/** docker's runStartContainerErr: exec problems get 126/127 instead of 125. */
export function startErrorExitCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

export const runCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommandArgs(
    'run',
    args,
    {
      rm: { type: 'boolean' },
      detach: { type: 'boolean', short: 'd' },
      name: { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
    },
    true,
  );
  requireArgs('run', positionals, 1, 'berth run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const [image, ...cmd] = positionals as [string, ...string[]];
  const detach = values['detach'] === true;
  const autoRemove = values['rm'] === true;
  const body: CreateBody = {
    Image: image,
    Cmd: cmd.length > 0 ? cmd : undefined,
    Env: (values['env'] as string[] | undefined) ?? [],
    AttachStdout: !detach,
    AttachStderr: !detach,
    Tty: false,
    OpenStdin: false,
    HostConfig: { AutoRemove: autoRemove },
  };
  const id = await createContainer(ctx, body, values['name'] as string | undefined);
  const path = `/containers/${id}`;

  if (detach) {
    await start(ctx, path);
    ctx.stdout.write(`${id}\n`);
    return 0;
  }

  // Attach and wait before start, so that no output and no exit can be missed.
  const attached = await ctx.api.upgrade('POST', `${path}/attach`, { query: { stream: true, stdout: true, stderr: true } });
  const output = copyContainerOutput(ctx, attached, false);
  const waitRes = await ctx.api.request('POST', `${path}/wait`, { query: { condition: autoRemove ? 'removed' : 'next-exit' } });
  const waitBody = (async () => {
    let text = '';
    for await (const chunk of waitRes) text += (chunk as Buffer).toString('utf8');
    return JSON.parse(text) as { StatusCode: number; Error?: { Message?: string } | null };
  })();
  waitBody.catch(() => undefined); // observed below; avoid an unhandled rejection if start fails first
  try {
    await start(ctx, path);
  } catch (err) {
    attached.destroy();
    waitRes.destroy();
    throw err;
  }
  const [result] = await Promise.all([waitBody, output]);
  if (result.Error?.Message) ctx.stderr.write(`berth: ${result.Error.Message}\n`);
  return result.StatusCode;
};

async function start(ctx: CommandContext, path: string): Promise<void> {
  try {
    await ctx.api.call('POST', `${path}/start`);
  } catch (err) {
    if (err instanceof DaemonError) throw new RunError(`Error response from daemon: ${err.message}`, startErrorExitCode(err.message));
    throw err;
  }
}
