// The instructions that only change the image config (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, USER,
// VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER, ARG): their effect on the run
// config and the comment moby commits them with (`#(nop) ` + comment in the history), as
// builder/dockerfile/dispatchers.go writes them.
import { InvalidParameterError } from '../../errors.js';
import type { Instruction, RunConfig } from './types.js';
import { expandWord, ShellWordError } from './dockerfile/shell-words.js';
import { healthConfigOf, HealthcheckError } from './dockerfile/healthcheck.js';

export type ExpandFn = (word: string) => string;

export interface ConfigStepContext {
  runConfig: RunConfig;
  expand: ExpandFn;
  shell: string[];
  escape: string;
}

export interface ConfigStepResult {
  runConfig: RunConfig;
  comment: string;
  /** ARG's declarations: name -> default. */
  args?: [string, string | undefined][];
}

/** Go's %q of a []string: ["a" "b"]. */
const goQuoteList = (l: readonly string[] | null | undefined) => `[${(l ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;

/** (key, value, '='|'') triples of ENV and LABEL, expanded. */
function pairs(ins: Instruction, expand: ExpandFn): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < ins.args.length; i += 3) out.push([expand(ins.args[i]), expand(ins.args[i + 1])]);
  return out;
}

function commandOf(ins: Instruction, shell: string[]): string[] {
  return ins.json ? ins.args : [...shell, ins.args[0] ?? ''];
}

export function applyConfigInstruction(ins: Instruction, ctx: ConfigStepContext): ConfigStepResult {
  const c: RunConfig = { ...ctx.runConfig };
  const { expand } = ctx;
  switch (ins.keyword) {
    case 'ENV': {
      const env = [...(c.Env ?? [])];
      const kv = pairs(ins, expand);
      for (const [k, v] of kv) {
        const i = env.findIndex((e) => e.split('=')[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      c.Env = env;
      return { runConfig: c, comment: `ENV ${kv.map(([k, v]) => `${k}=${v}`).join(' ')}` };
    }
    case 'LABEL': {
      const kv = pairs(ins, expand);
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of kv) c.Labels[k] = v;
      return { runConfig: c, comment: `LABEL ${kv.map(([k, v]) => `${k}=${v}`).join(' ')}` };
    }
    case 'MAINTAINER':
      return { runConfig: c, comment: `MAINTAINER ${expand(ins.args[0] ?? '')}` };
    case 'EXPOSE': {
      const ports = ins.args.map((p) => expand(p)).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) c.ExposedPorts[p] = {};
      return { runConfig: c, comment: `EXPOSE ${[...new Set(ports)].sort().join(' ')}` };
    }
    case 'USER':
      c.User = expand(ins.args[0] ?? '');
      return { runConfig: c, comment: `USER ${c.User}` };
    case 'VOLUME': {
      const vols = ins.args.map((v) => expand(v)).filter((v) => v !== '');
      if (vols.length === 0) throw new InvalidParameterError('VOLUME specified can not be an empty string');
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) c.Volumes[v] = {};
      return { runConfig: c, comment: `VOLUME [${vols.join(' ')}]` };
    }
    case 'STOPSIGNAL':
      c.StopSignal = expand(ins.args[0] ?? '');
      return { runConfig: c, comment: `STOPSIGNAL ${c.StopSignal}` };
    case 'WORKDIR':
      throw new InvalidParameterError('WORKDIR is not a config step');
    case 'CMD':
      c.Cmd = commandOf(ins, ctx.shell);
      return { runConfig: c, comment: `CMD ${goQuoteList(c.Cmd)}` };
    case 'ENTRYPOINT':
      c.Entrypoint = commandOf(ins, ctx.shell);
      return { runConfig: c, comment: `ENTRYPOINT ${goQuoteList(c.Entrypoint)}` };
    case 'SHELL':
      c.Shell = ins.args;
      return { runConfig: c, comment: `SHELL [${ins.args.join(' ')}]` };
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), ins.args[0] ?? ''];
      return { runConfig: c, comment: `ONBUILD ${ins.args[0] ?? ''}` };
    case 'HEALTHCHECK': {
      try {
        c.Healthcheck = healthConfigOf(ins);
      } catch (err) {
        if (err instanceof HealthcheckError) throw new InvalidParameterError(err.message);
        throw err;
      }
      return { runConfig: c, comment: `HEALTHCHECK &{${goQuoteList(c.Healthcheck.Test)} "0s" "0s" "0s" "0s" '\\x00'}` };
    }
    case 'ARG': {
      const args = ins.args.map((w): [string, string | undefined] => {
        const i = w.indexOf('=');
        return i < 0 ? [w, undefined] : [w.slice(0, i), expand(w.slice(i + 1))];
      });
      return { runConfig: c, comment: `ARG ${args.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`, args };
    }
    default:
      throw new InvalidParameterError(`unknown instruction: ${ins.keyword}`);
  }
}

/** Word expansion with `env` (buildkit's lexer); its errors are the client's (400). */
export function expandWith(env: ReadonlyMap<string, string>, escape: string): ExpandFn {
  return (word) => {
    try {
      return expandWord(word, env, escape);
    } catch (err) {
      if (err instanceof ShellWordError) throw new InvalidParameterError(err.message);
      throw err;
    }
  };
}
