// Dockerfile text -> ParsedDockerfile, checked as the classic builder checks it before running
// anything (buildkit's instructions.Parse): every instruction known, its arguments and flags
// valid, stages opened by FROM, ARGs before the first FROM kept as meta args. Errors carry
// Docker's words: `dockerfile parse error on line 3: unknown instruction: RUNN (did you mean RUN?)`.
//
// What an Instruction's `args` hold, per keyword (buildkit's node arguments):
//   ENV, LABEL       (key, value, '=' | '') triples, quotes still in (expansion strips them);
//                    '' marks the legacy `ENV key value` form
//   ARG              words `name` or `name=value`, quotes still in
//   FROM             the words: [image] or [image, 'AS', name]
//   RUN CMD ENTRYPOINT SHELL
//                    json: the array; shell form: one string (the rest of the line)
//   COPY ADD VOLUME  json: the array; else words split on whitespace (COPY/ADD: sources..., dest)
//   EXPOSE           words, sorted (as buildkit sorts them before expansion)
//   HEALTHCHECK      [type, ...command as for CMD]
//   ONBUILD          [the trigger's text], e.g. 'RUN make' (what goes in the config's OnBuild)
//   MAINTAINER USER WORKDIR STOPSIGNAL
//                    one string
// `flags` hold the used flags checked against what each instruction accepts (bool ones 'true'
// or 'false'; repeated ones joined by '\n'). RUN's --mount/--network/--security/--device and
// COPY/ADD's --chmod parse here but the classic builder refuses them when the step runs
// (instructions.ts: classicUnsupported).
import { InvalidParameterError } from '../../../errors.js';
import type { Instruction, ParsedDockerfile, Stage } from '../types.js';
import { healthConfigOf, HealthcheckError } from './healthcheck.js';
import { FlagError, parseFlags, type FlagKind } from './instruction-flags.js';
import { parseNodes, type DockerfileNode } from './parse-nodes.js';
import { suggest } from './suggest.js';

export const INSTRUCTIONS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
] as const;

// The flags Docker 28.2's parser accepts (buildkit v0.21 as moby vendors it: COPY --exclude and
// --parents are labs-only there, ADD --unpack and RUN --security do not exist yet).
const COPY_FLAGS: Record<string, FlagKind> = { chown: 'string', from: 'string', chmod: 'string', link: 'bool' };
const ADD_FLAGS: Record<string, FlagKind> = { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string' };
const RUN_FLAGS: Record<string, FlagKind> = { mount: 'strings', network: 'string', device: 'strings' };
const HEALTH_FLAGS: Record<string, FlagKind> = {
  interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string',
};
const NO_FLAGS: Record<string, FlagKind> = {};
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

class InstructionError extends Error {}

/**
 * Parse a Dockerfile. `name` is the -f path as the client gave it (Docker's messages name it).
 * Throws InvalidParameterError with Docker's message.
 */
export function parseDockerfile(text: string, name = 'Dockerfile'): ParsedDockerfile {
  if (text === '') throw new InvalidParameterError(`the Dockerfile (${name}) cannot be empty`);
  const { escape, nodes, warnings } = parseNodes(text, name);
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const node of nodes) {
    let instr: Instruction;
    let stageName: string | undefined;
    try {
      ({ instr, stageName } = checkInstruction(node));
    } catch (err) {
      if (err instanceof InstructionError || err instanceof FlagError || err instanceof HealthcheckError) {
        throw new InvalidParameterError(`dockerfile parse error on line ${node.startLine}: ${err.message}`);
      }
      throw err;
    }
    if (instr.keyword === 'FROM') {
      stages.push({ from: instr, ...(stageName ? { name: stageName } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (instr.keyword !== 'ARG') throw new InvalidParameterError('no build stage in current context');
      metaArgs.push(instr);
    } else {
      stages[stages.length - 1].instructions.push(instr);
    }
  }
  return { escape, metaArgs, stages, ...(warnings.length ? { warnings } : {}) };
}

/** What moby prints on the build's stderr for the parser's warnings ('' when none). */
export function warningText(parsed: ParsedDockerfile): string {
  const w = parsed.warnings ?? [];
  if (w.length === 0) return '';
  return w.map((s) => `[WARNING]: ${s}\n`).join('') + '[WARNING]: Empty continuation lines will become errors in a future release.\n';
}

/** One ONBUILD trigger (or any single line) parsed and checked as an instruction of its own. */
export function parseTrigger(expression: string): Instruction {
  // a trigger is re-parsed on its own when it fires, as moby does: default escape, no directives
  const { nodes } = parseNodes(expression, 'Dockerfile');
  if (nodes.length !== 1) throw new InvalidParameterError('onbuild trigger should be a single expression');
  try {
    return checkInstruction(nodes[0]).instr;
  } catch (err) {
    if (err instanceof InstructionError || err instanceof FlagError || err instanceof HealthcheckError) {
      throw new InvalidParameterError(err.message);
    }
    throw err;
  }
}

function checkInstruction(node: DockerfileNode): { instr: Instruction; stageName?: string } {
  const keyword = node.keyword.toUpperCase();
  const base = { keyword, line: node.startLine, original: node.original.trim(), json: node.json };
  const args = [...node.args];
  const flags = (allowed: Record<string, FlagKind>) => parseFlags(node.flags, allowed);
  const make = (f: Record<string, string>, a: string[] = args): Instruction => ({ ...base, flags: f, args: a });
  switch (keyword) {
    case 'ENV':
    case 'LABEL': {
      const f = flags(NO_FLAGS);
      checkKvps(args, keyword);
      return { instr: make(f) };
    }
    case 'MAINTAINER':
      if (args.length !== 1) throw exactlyOne(keyword);
      return { instr: make(flags(NO_FLAGS)) };
    case 'ADD':
    case 'COPY': {
      if (args.length < 2) {
        throw new InstructionError(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
      }
      return { instr: make(flags(keyword === 'ADD' ? ADD_FLAGS : COPY_FLAGS)) };
    }
    case 'FROM': {
      let stageName: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        stageName = args[2].toLowerCase();
        if (!STAGE_NAME.test(stageName)) {
          throw new InstructionError(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new InstructionError('FROM requires either one or three arguments');
      }
      return { instr: make(flags({ platform: 'string' })), stageName };
    }
    case 'ONBUILD': {
      if (!node.child) throw atLeastOne(keyword);
      const f = flags(NO_FLAGS);
      const trigger = node.child.keyword.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new InstructionError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new InstructionError(`${trigger} isn't allowed as an ONBUILD trigger`);
      return { instr: make(f, [node.original.replace(/^\s*ONBUILD\s*/i, '')]) };
    }
    case 'WORKDIR':
    case 'USER':
      if (args.length !== 1) throw exactlyOne(keyword);
      return { instr: make(flags(NO_FLAGS)) };
    case 'RUN':
      return { instr: make(flags(RUN_FLAGS)) };
    case 'CMD':
    case 'ENTRYPOINT':
      return { instr: make(flags(NO_FLAGS)) };
    case 'HEALTHCHECK': {
      if (args.length === 0) throw atLeastOne(keyword);
      // NONE reads no flags at all (buildkit parses them only for CMD)
      const f = args[0].toUpperCase() === 'NONE' ? {} : flags(HEALTH_FLAGS);
      const instr = make(f);
      healthConfigOf(instr);
      return { instr };
    }
    case 'EXPOSE': {
      if (args.length === 0) throw atLeastOne(keyword);
      const f = flags(NO_FLAGS);
      return { instr: make(f, [...args].sort(byteOrder)) };
    }
    case 'VOLUME': {
      if (args.length === 0) throw atLeastOne(keyword);
      const f = flags(NO_FLAGS);
      const vols = args.map((v) => v.trim());
      if (vols.some((v) => v === '')) throw new InstructionError('VOLUME specified can not be an empty string');
      return { instr: make(f, vols) };
    }
    case 'STOPSIGNAL':
      // buildkit never reads STOPSIGNAL's or ARG's flags, so they are ignored, not refused
      if (args.length !== 1) throw exactlyOne(keyword);
      return { instr: make({}) };
    case 'ARG':
      if (args.length === 0) throw atLeastOne(keyword);
      for (const a of args) if (a.startsWith('=')) throw new InstructionError('ARG names can not be blank');
      return { instr: make({}) };
    case 'SHELL': {
      const f = flags(NO_FLAGS);
      if (args.length === 0) throw atLeastOne(keyword);
      if (!node.json) throw new InstructionError('SHELL requires the arguments to be in JSON form');
      return { instr: make(f) };
    }
    default: {
      const hint = suggest(node.keyword, [...INSTRUCTIONS], false);
      throw new InstructionError(`unknown instruction: ${node.keyword}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
  }
}

function checkKvps(args: string[], cmd: string): void {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new InstructionError(`Bad input to ${cmd}, too many arguments`);
  for (let i = 0; i < args.length; i += 3) if (args[i] === '') throw new InstructionError(`${cmd} names can not be blank`);
}

function atLeastOne(cmd: string): InstructionError {
  return new InstructionError(`${cmd} requires at least one argument`);
}
function exactlyOne(cmd: string): InstructionError {
  return new InstructionError(`${cmd} requires exactly one argument`);
}
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
