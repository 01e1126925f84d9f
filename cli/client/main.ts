// The `berth` client: parses global flags, dispatches to a subcommand, and turns errors into
// docker's messages and exit codes.
import { HelpRequested, UsageError } from './args.js';
import { ApiClient, ConnectError, DaemonError, resolveSocketPath } from './http.js';
import { JsonMessageError } from './progress.js';
import { COMMAND_USAGE, MAIN_USAGE } from './usage.js';
import type { Command, CommandContext, OutputStream } from './context.js';
import { versionCommand } from './commands/version.js';
import { psCommand } from './commands/ps.js';
import { imagesCommand } from './commands/images.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { runCommand, RunError } from './commands/run.js';
import { logsCommand } from './commands/logs.js';
import { rmCommand } from './commands/rm.js';
import { buildCommand } from './commands/build.js';
import { saveCommand } from './commands/save.js';
import { loadCommand } from './commands/load.js';
import { StatusError } from './status-error.js';

const COMMANDS: Record<string, Command> = {
  version: versionCommand,
  ps: psCommand,
  images: imagesCommand,
  pull: pullCommand,
  push: pushCommand,
  run: runCommand,
  logs: logsCommand,
  rm: rmCommand,
  build: buildCommand,
  save: saveCommand,
  load: loadCommand,
};

export interface ClientIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
}

/** Runs one client command line (argv without node and script); resolves with the exit code. */
export async function runClient(argv: string[], io: ClientIO = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  let host: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-H' || arg === '--host') {
      host = argv[++i];
      if (host === undefined) return usageFailure(io, 'flag needs an argument: --host', undefined, 125);
    } else if (arg.startsWith('--host=')) {
      host = arg.slice('--host='.length);
    } else if (arg === '-h' || arg === '--help') {
      io.stdout.write(MAIN_USAGE.trimStart());
      return 0;
    } else if (arg === '-v' || arg === '--version') {
      argv = [...argv.slice(0, i), 'version', ...argv.slice(i + 1)];
      break;
    } else if (arg.startsWith('-')) {
      return usageFailure(io, `unknown flag: ${arg}`, undefined, 125);
    } else {
      break;
    }
  }
  const name = argv[i];
  const args = argv.slice(i + 1);
  if (name === undefined) {
    io.stdout.write(MAIN_USAGE.trimStart());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`berth: unknown command: berth ${name}\n\nRun 'berth --help' for more information\n`);
    return 1;
  }
  try {
    const ctx: CommandContext = { api: new ApiClient(resolveSocketPath(host, io.env)), stdout: io.stdout, stderr: io.stderr };
    return await command(ctx, args);
  } catch (err) {
    return reportError(io, name, err);
  }
}

function reportError(io: ClientIO, command: string, err: unknown): number {
  // `run` prefixes its errors with the program name and exits 125, as `docker run` does.
  const isRun = command === 'run';
  const prefix = isRun ? 'berth: ' : '';
  if (err instanceof HelpRequested) {
    io.stdout.write((COMMAND_USAGE[err.command] ?? MAIN_USAGE).trimStart());
    return 0;
  }
  if (err instanceof UsageError) return usageFailure(io, err.message, err.command, err.exitCode);
  if (err instanceof StatusError) {
    io.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof RunError) {
    io.stderr.write(`${prefix}${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof DaemonError) {
    io.stderr.write(`${prefix}Error response from daemon: ${err.message}\n`);
    return isRun ? 125 : 1;
  }
  if (err instanceof ConnectError || err instanceof JsonMessageError) {
    io.stderr.write(`${prefix}${err.message}\n`);
    return isRun ? 125 : 1;
  }
  io.stderr.write(`${prefix}${err instanceof Error ? err.message : String(err)}\n`);
  return isRun ? 125 : 1;
}

function usageFailure(io: ClientIO, message: string, command: string | undefined, exitCode: number): number {
  const help = command ? `berth ${command} --help` : 'berth --help';
  io.stderr.write(`${message}\nSee '${help}'.\n`);
  return exitCode;
}
