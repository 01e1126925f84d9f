// `docker import --change` / `docker commit --change`: moby's BuildFromConfig. The changes are
// one Dockerfile (joined by newlines) parsed and applied by the builder's own parser and
// instruction semantics (build/dockerfile/), so both read a line exactly as `docker build` does;
// only the instructions moby's validCommitCommands names are accepted, every one checked before
// any is applied.
import { InvalidParameterError } from '../errors.js';
import { BuildArgs } from './build/dockerfile/build-args.js';
import { applyInstruction, type StageState } from './build/dockerfile/instructions.js';
import { parseNodes } from './build/dockerfile/parse-nodes.js';
import { parseTrigger } from './build/dockerfile/parse-dockerfile.js';
import type { ImageContainerConfig } from './types.js';

/** moby's validCommitCommands (STOPSIGNAL, SHELL, ARG, RUN... are refused). */
const ALLOWED = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);

export function applyChanges(base: ImageContainerConfig, changes: string[]): ImageContainerConfig {
  if (changes.length === 0) return base;
  let parsed: ReturnType<typeof parseNodes>;
  try {
    parsed = parseNodes(changes.join('\n'), 'changes');
  } catch (err) {
    // moby returns the parser's own words here, without the build's "failed to parse" prefix
    if (err instanceof InvalidParameterError) throw new InvalidParameterError(err.message.replace(/^failed to parse changes: /, ''));
    throw err;
  }
  const { escape, nodes } = parsed;
  for (const n of nodes) {
    const name = n.original.trim().split(/\s+/, 1)[0]!.toLowerCase();
    if (!ALLOWED.has(name)) throw new InvalidParameterError(`${name} is not a valid change command`);
  }
  const instructions = nodes.map((n) => parseTrigger(n.original));
  const st: StageState = { config: structuredClone(base), cmdSet: false, args: new BuildArgs(), escape, triggers: [] };
  for (const instr of instructions) applyInstruction(st, instr);
  return st.config;
}
