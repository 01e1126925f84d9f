import { readFile, stat, writeFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { parseCommandArgs, UsageError } from '../args.js';
import { buildContextTar } from '../build-context.js';
import { ByteProgress } from '../byte-progress.js';
import { JsonMessageError, JsonMessageRenderer, jsonMessages, type TextSink } from '../progress.js';
import { StatusError } from '../status-error.js';
import type { Command, CommandContext } from '../context.js';

const USAGE = 'berth build [OPTIONS] PATH | -';

/** The CLI's opts.ValidateEnv for --build-arg: a bare KEY takes its value from the environment, or null. */
function buildArgs(list: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const arg of list) {
    const eq = arg.indexOf('=');
    if (eq > 0) out[arg.slice(0, eq)] = arg.slice(eq + 1);
    else out[arg] = process.env[arg] ?? null;
  }
  return out;
}

function labels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    if (eq < 0) out[l] = '';
    else out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The docker CLI's GetContextFromLocalDir: the context dir and where the Dockerfile is. */
async function localContext(path: string, file: string | undefined): Promise<{ dir: string; dockerfile: string; outside?: Buffer }> {
  const dir = resolve(path);
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new Error(`unable to prepare context: path ${JSON.stringify(path)} not found`);
  if (!st.isDirectory()) throw new Error(`unable to prepare context: context must be a directory: ${dir}`);
  if (file === '-') return { dir, dockerfile: 'Dockerfile', outside: await readAll(process.stdin) };
  let abs = file === undefined ? resolve(dir, 'Dockerfile') : resolve(file);
  if (file === undefined && !(await stat(abs).catch(() => undefined))) {
    const lower = resolve(dir, 'dockerfile');
    if (await stat(lower).catch(() => undefined)) abs = lower;
  }
  const fst = await stat(abs).catch(() => undefined);
  if (!fst) throw new Error(`unable to prepare context: Cannot locate specified Dockerfile: ${file ?? 'Dockerfile'}`);
  const rel = relative(dir, abs);
  // a Dockerfile outside the context travels inside the tar under a name of its own
  if (rel.startsWith(`..${sep}`) || rel === '..') return { dir, dockerfile: rel, outside: await readFile(abs) };
  return { dir, dockerfile: rel.split(sep).join('/') };
}

/** Renders the build's messages; the aux message's ID is the image built. */
async function renderBuild(ctx: CommandContext, res: Readable, out: TextSink, isTerminal: boolean): Promise<string | undefined> {
  const renderer = new JsonMessageRenderer(out, isTerminal, ctx.stdout.columns ?? 200);
  let imageId: string | undefined;
  for await (const msg of jsonMessages(res)) {
    const aux = msg.aux as { ID?: unknown } | undefined;
    if (aux && typeof aux.ID === 'string') imageId = aux.ID;
    renderer.render(msg);
  }
  return imageId;
}

/**
 * `berth build`: the classic builder's POST /build as the docker CLI calls it with
 * DOCKER_BUILDKIT=0: the context directory tarred and streamed (or a tar on stdin for `-`),
 * the output streamed as it comes; -q prints only the image ID. A failed step exits with the
 * step's code, as the docker CLI does.
 */
export const buildCommand: Command = async (ctx, argv) => {
  // --rm is a boolean that defaults to true, so `--rm=false` must parse: Go's pflag takes it
  let rmValue = 'true';
  const args = argv.filter((a) => {
    const m = /^--rm=(.*)$/.exec(a);
    if (m) rmValue = m[1]!;
    return !m;
  });
  const { values, positionals } = parseCommandArgs('build', args, {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    'build-arg': { type: 'string', multiple: true },
    label: { type: 'string', multiple: true },
    'no-cache': { type: 'boolean' },
    pull: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    rm: { type: 'boolean' },
    'force-rm': { type: 'boolean' },
    target: { type: 'string' },
    network: { type: 'string' },
    platform: { type: 'string' },
    iidfile: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`"berth build" requires exactly 1 argument.\n\nUsage:  ${USAGE}`, 'build', 1);
  const quiet = values['quiet'] === true;
  const file = values['file'] as string | undefined;
  if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(rmValue)) throw new UsageError(`invalid argument "${rmValue}" for "--rm" flag: strconv.ParseBool: parsing "${rmValue}": invalid syntax`, 'build', 125);
  const iidfile = values['iidfile'] as string | undefined;
  if (iidfile !== undefined) await writeFile(iidfile, '');

  let body: Readable;
  let dockerfile: string | undefined;
  let progress: ByteProgress | undefined;
  if (positionals[0] === '-') {
    if (file === '-') throw new Error('invalid argument: can\'t use stdin for both build context and dockerfile');
    body = process.stdin;
    dockerfile = file;
  } else {
    const local = await localContext(positionals[0]!, file);
    const context = await buildContextTar(local.dir, { dockerfile: local.dockerfile, extraDockerfile: local.outside });
    dockerfile = context.dockerfile;
    progress = new ByteProgress(quiet ? { write: () => true } : ctx.stdout, 'Sending build context to the berth daemon', 0, true);
    body = context.tar.pipe(progress.counter());
    context.tar.on('error', (err) => body.destroy(err));
  }
  const res = await ctx.api
    .upload('POST', '/build', body, {
      query: {
        t: (values['tag'] as string[] | undefined) ?? [],
        dockerfile,
        buildargs: JSON.stringify(buildArgs((values['build-arg'] as string[] | undefined) ?? [])),
        labels: JSON.stringify(labels((values['label'] as string[] | undefined) ?? [])),
        nocache: values['no-cache'] === true,
        pull: values['pull'] === true,
        q: quiet,
        rm: /^(1|t|true)$/i.test(rmValue) ? '1' : '0',
        forcerm: values['force-rm'] === true,
        target: values['target'] as string | undefined,
        networkmode: values['network'] as string | undefined,
        platform: values['platform'] as string | undefined,
      },
    })
    .catch((err: unknown) => {
      progress?.done();
      throw err;
    });
  // quiet: the output is kept, printed only when the build fails
  const kept: string[] = [];
  const sink: TextSink = quiet ? { write: (t: string) => kept.push(t) } : ctx.stdout;
  let imageId: string | undefined;
  try {
    imageId = await renderBuild(ctx, res, sink, !quiet && ctx.stdout.isTTY === true);
  } catch (err) {
    if (err instanceof JsonMessageError) {
      if (quiet) ctx.stderr.write(kept.join(''));
      throw new StatusError(err.message, err.code || 1);
    }
    throw err;
  } finally {
    res.destroy();
  }
  // quiet: the daemon's output is the ID (moby sends no aux then), written as it came
  if (quiet) {
    imageId = kept.join('');
    ctx.stdout.write(imageId);
  }
  if (iidfile !== undefined) {
    if (!imageId) throw new Error(`Server did not provide an image ID. Cannot write ${iidfile}`);
    await writeFile(iidfile, imageId);
  }
  return 0;
};
