// Argument parsing on node:util parseArgs, with docker's exit codes for usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the command cannot accept; main prints it and exits with `exitCode`. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly command: string, readonly exitCode: number) {
    super(message);
  }
}

/** --help was given: main prints the command's usage and exits 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
  constructor(readonly command: string) {
    super(`help for ${command}`);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` for `command`. With `stopAtPositional`, everything from the first positional on
 * is left unparsed (as `docker run IMAGE CMD -x` needs: -x belongs to CMD).
 */
export function parseCommandArgs(command: string, args: string[], options: Options, stopAtPositional = false): ParsedArgs {
  let optionArgs = args;
  let rest: string[] = [];
  if (stopAtPositional) {
    const split = firstPositional(args, options);
    optionArgs = args.slice(0, split);
    rest = args.slice(split);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: optionArgs, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(flagErrorText(err as Error), command, 125);
  }
  if (parsed.values['help']) throw new HelpRequested(command);
  return { values: parsed.values as ParsedArgs['values'], positionals: [...parsed.positionals, ...rest] };
}

function firstPositional(args: string[], options: Options): number {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (spec.short) takesValue.add(`-${spec.short}`);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return i; // parseArgs drops the marker and treats the rest as positionals
    if (!arg.startsWith('-') || arg === '-') return i;
    if (takesValue.has(arg)) i++;
  }
  return args.length;
}

function flagErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const match = /'(-[^', ]+)/.exec(err.message);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && match) return `unknown flag: ${match[1]}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && match) return `flag needs an argument: ${match[1]}`;
  return err.message;
}

export function requireArgs(command: string, positionals: string[], min: number, usage: string): void {
  if (positionals.length < min) {
    const what = min === 1 ? '1 argument' : `${min} arguments`;
    throw new UsageError(`"berth ${command}" requires at least ${what}.\n\nUsage:  ${usage}`, command, 1);
  }
}
