// What each Dockerfile instruction does to the image config, as moby's classic builder
// (builder/dockerfile/dispatchers.go) does it, without running anything.
//
// How the executor uses it:
//   const args = new BuildArgs(request buildargs);
//   for (const m of parsed.metaArgs) { print step m.original; applyMetaArg(args, m, parsed.escape); }
//   per stage: const { image, platform } = expandFrom(stage.from, args, escape); pull/resolve it;
//     const st = beginStage(baseConfig, args, stage.name, escape);
//     st.triggers (the base's ONBUILD): print "# Executing N build trigger(s)", then
//       applyInstruction(st, parseTrigger(t)) for each;
//     for each instruction: print `Step i/n : ${instr.original}`; const e = applyInstruction(st, instr);
//       'commit'  -> probe the cache with e.containerConfig; else commit an empty-layer image
//                    (config st.config, container_config e.containerConfig, created_by e.createdBy,
//                    author st.maintainer)
//       'workdir' -> same, but through a container that creates e.dir first (moby does mkdir)
//       'run'     -> probe the cache with e.containerConfig; else run e.runConfig in a container,
//                    commit its changes with config st.config and container_config e.containerConfig;
//                    on a non-zero exit fail with runFailureMessage(e.runConfig.Cmd, code)
//       'copy'    -> copy/ builds the plan; then containerConfig = copyContainerConfig(st, comment)
//                    with comment = copyComment(...) and the plan's source checksum
//     after the stage: args.mergeReferenced(st.args); at the end print args.unusedWarning().
// The state's config is changed in place; history lines and cache keys are moby's exactly, e.g.
// `/bin/sh -c #(nop)  ENV A=b`, `/bin/sh -c #(nop) WORKDIR /app`, `|1 X=1 /bin/sh -c make`.
import { constants } from 'node:os';
import { InvalidParameterError } from '../../../errors.js';
import type { Instruction, RunConfig } from '../types.js';
import { BuildArgs } from './build-args.js';
import { exposedPortKeys } from './expose-ports.js';
import { goList, goQuote, goQuoteList, goQuoteRune } from './go-format.js';
import { goDurationString, healthConfigOf, type HealthConfig } from './healthcheck.js';
import { envFromList, expandWord, expandWords, ShellWordError, type Env } from './shell-words.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];
const BUILDKIT_HINT = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

/** What a stage's instructions need of the build args (BuildArgs here, or the executor's own). */
export interface StageArgs {
  filterAllowed(env: readonly string[]): string[];
  addArg(key: string, value: string | undefined): void;
  isReferencedOrNotBuiltin(key: string): boolean;
}

export interface StageState {
  config: RunConfig;
  /** MAINTAINER: the Author of the images this stage commits. */
  maintainer?: string;
  /** A CMD was given in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  args: StageArgs;
  escape: string;
  name?: string;
  /** The base image's ONBUILD triggers, to run before the stage's own instructions. */
  triggers: string[];
}

export type StepEffect =
  /** `note`: a line moby prints before committing (HEALTHCHECK overriding an earlier one). */
  | { kind: 'commit'; containerConfig: RunConfig; createdBy: string; note?: string }
  | { kind: 'workdir'; dir: string; containerConfig: RunConfig; createdBy: string }
  | { kind: 'run'; runConfig: RunConfig; containerConfig: RunConfig; createdBy: string }
  | { kind: 'copy'; isAdd: boolean; sources: string[]; dest: string; from?: string; chown?: string; chmod?: number };

function invalid(err: unknown): never {
  if (err instanceof ShellWordError) throw new InvalidParameterError(err.message);
  throw err;
}

/** An ARG before the first FROM: expanded with the args so far, then a meta arg and a declared one. */
export function applyMetaArg(args: BuildArgs, instr: Instruction, escape: string): void {
  const env = args.allAllowed();
  for (const { key, value } of argPairs(instr, env, escape)) {
    args.addArg(key, value);
    args.addMetaArg(key, value);
  }
}

/** FROM's image (and --platform) expanded with the meta args only. */
export function expandFrom(from: Instruction, args: BuildArgs, escape: string): { image: string; platform?: string } {
  const env = args.allMeta();
  let platform: string | undefined;
  if (from.flags.platform) {
    try {
      platform = expandWord(from.flags.platform, env, escape);
    } catch (err) {
      if (err instanceof ShellWordError) throw new InvalidParameterError(`failed to process arguments for platform : ${err.message}`);
      throw err;
    }
  }
  let image: string;
  try {
    image = expandWord(from.args[0], env, escape);
  } catch (err) {
    invalid(err);
  }
  if (image === '') throw new InvalidParameterError(`base name (${from.args[0]}) should not be blank`);
  return { image, ...(platform !== undefined ? { platform } : {}) };
}

/** A stage starts from its base's config (none for scratch), with PATH set when the base has none. */
export function beginStage(base: RunConfig | undefined | null, args: BuildArgs, name: string | undefined, escape: string): StageState & { args: BuildArgs } {
  const config: RunConfig = base ? structuredClone(base) : {};
  if (!(config.Env ?? []).some((e) => e.split('=', 1)[0] === 'PATH')) config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
  const loose = config as Record<string, unknown>;
  if ('OpenStdin' in loose) loose.OpenStdin = false;
  if ('StdinOnce' in loose) loose.StdinOnce = false;
  const triggers = config.OnBuild ?? [];
  if (triggers.length) config.OnBuild = null;
  return { config, cmdSet: false, args: args.forStage(), escape, ...(name ? { name } : {}), triggers: [...triggers] };
}

/** The LABEL steps `--label` adds at the end of the last stage (sorted, not expanded). */
export function labelOptionInstructions(labels: Readonly<Record<string, string>>): Instruction[] {
  return Object.keys(labels)
    .sort()
    .map((k) => ({ keyword: 'LABEL', line: 0, original: `LABEL ${k}=${labels[k]}`, flags: {}, args: [k, labels[k], '='], json: false, noExpand: true }));
}

/** One instruction's effect; the state's config is changed in place. */
export function applyInstruction(st: StageState, instr: Instruction): StepEffect {
  const cfg = st.config;
  const envList = cfg.Env ?? [];
  // moby computes the expansion env once per instruction: `ENV A=1 B=$A` sees the old A
  const env: Env = envFromList([...envList, ...st.args.filterAllowed(envList)]);
  const word = (w: string): string => {
    try {
      return expandWord(w, env, st.escape);
    } catch (err) {
      invalid(err);
    }
  };
  const commit = (comment: string): StepEffect => {
    const containerConfig = nopConfig(cfg, comment, false);
    return { kind: 'commit', containerConfig, createdBy: (containerConfig.Cmd ?? []).join(' ') };
  };

  switch (instr.keyword) {
    case 'ENV': {
      let msg = 'ENV';
      const next = [...envList];
      for (const [k, v] of triples(instr.args)) {
        const key = word(k);
        const value = word(v);
        const entry = `${key}=${value}`;
        msg += ' ' + entry;
        const i = next.findIndex((e) => e.split('=', 1)[0] === key);
        if (i >= 0) next[i] = entry;
        else next.push(entry);
      }
      cfg.Env = next;
      return commit(msg);
    }
    case 'LABEL': {
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      let msg = 'LABEL';
      for (const [k, v] of triples(instr.args)) {
        const key = instr.noExpand ? k : word(k);
        const value = instr.noExpand ? v : word(v);
        cfg.Labels[key] = value;
        msg += ` ${key}=${value}`;
      }
      return commit(msg);
    }
    case 'MAINTAINER':
      st.maintainer = instr.args[0];
      return commit('MAINTAINER ' + instr.args[0]);
    case 'ONBUILD':
      cfg.OnBuild = [...(cfg.OnBuild ?? []), instr.args[0]];
      return commit('ONBUILD ' + instr.args[0]);
    case 'WORKDIR': {
      const requested = word(instr.args[0]);
      if (requested === '') throw new InvalidParameterError('cannot normalize nothing');
      cfg.WorkingDir = requested.startsWith('/') ? cleanPath(requested) : cleanPath(`/${cfg.WorkingDir ?? ''}/${requested}`);
      const containerConfig = nopConfig(cfg, 'WORKDIR ' + cfg.WorkingDir, true);
      return { kind: 'workdir', dir: cfg.WorkingDir, containerConfig, createdBy: (containerConfig.Cmd ?? []).join(' ') };
    }
    case 'RUN':
      return run(st, instr);
    case 'CMD': {
      cfg.Cmd = commandLine(cfg, instr, false) ?? [];
      delete cfg.ArgsEscaped;
      const e = commit('CMD ' + goQuoteList(cfg.Cmd));
      if (instr.args.length !== 0) st.cmdSet = true;
      return e;
    }
    case 'ENTRYPOINT': {
      cfg.Entrypoint = commandLine(cfg, instr, true);
      delete cfg.ArgsEscaped;
      if (!st.cmdSet) cfg.Cmd = null;
      return commit('ENTRYPOINT ' + goQuoteList(cfg.Entrypoint));
    }
    case 'HEALTHCHECK': {
      const hc = healthConfigOf(instr);
      const old = cfg.Healthcheck;
      const note = old?.Test?.length && old.Test[0] !== 'NONE' ? `Note: overriding previous HEALTHCHECK: ${goList(old.Test)}\n` : undefined;
      const msg = 'HEALTHCHECK ' + healthString(hc);
      // moby shares the HealthConfig between the step's config and the container it creates to
      // commit, and container create fills zero fields from the parent image's: so the image's
      // HEALTHCHECK NONE (or CMD without --interval) keeps the earlier intervals and retries
      // (seen on dockerd); the history line shows the instruction's own values.
      cfg.Healthcheck = omitZero(inheritZeros(hc, old));
      return { ...commit(msg), ...(note ? { note } : {}) };
    }
    case 'EXPOSE': {
      // the one instruction whose words may expand to several (EXPOSE $PORTS)
      const ports: string[] = [];
      for (const p of instr.args) {
        try {
          ports.push(...expandWords(p, env, st.escape));
        } catch (err) {
          invalid(err);
        }
      }
      const keys = exposedPortKeys(ports);
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const k of keys) cfg.ExposedPorts[k] = {};
      return commit('EXPOSE ' + ports.join(' '));
    }
    case 'USER':
      cfg.User = word(instr.args[0]);
      return commit(`USER ${cfg.User}`);
    case 'VOLUME': {
      const vols = instr.args.map(word);
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of vols) {
        if (v === '') throw new InvalidParameterError('VOLUME specified can not be an empty string');
        cfg.Volumes[v] = {};
      }
      return commit('VOLUME ' + goList(vols));
    }
    case 'STOPSIGNAL': {
      const sig = word(instr.args[0]);
      checkSignal(sig);
      cfg.StopSignal = sig;
      return commit(`STOPSIGNAL ${sig}`);
    }
    case 'ARG': {
      const pairs = argPairs(instr, env, st.escape);
      for (const { key, value } of pairs) st.args.addArg(key, value);
      return commit('ARG ' + pairs.map(({ key, value }) => (value === undefined ? key : `${key}=${value}`)).join(' '));
    }
    case 'SHELL':
      cfg.Shell = [...instr.args];
      return commit('SHELL ' + goList(cfg.Shell));
    case 'COPY':
    case 'ADD': {
      const chown = word(instr.flags.chown ?? '');
      const chmod = word(instr.flags.chmod ?? '');
      const parts = instr.args.map(word);
      const from = instr.keyword === 'COPY' && instr.flags.from ? instr.flags.from : undefined;
      return {
        kind: 'copy',
        isAdd: instr.keyword === 'ADD',
        sources: parts.slice(0, -1),
        dest: parts[parts.length - 1],
        ...(from ? { from } : {}),
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod: parseChmod(chmod) } : {}),
      };
    }
    case 'FROM':
      throw new InvalidParameterError('FROM opens a stage: use beginStage');
    default:
      throw new InvalidParameterError(`unknown instruction: ${instr.keyword}`);
  }
}

/**
 * --chmod as BuildKit takes it (dockerfile2llb: octal, at most 07777). moby's classic builder
 * refuses the flag; issue 10 asks for BuildKit's meaning, so berth's classic builder has it.
 */
function parseChmod(text: string): number {
  if (!/^[0-7]+$/.test(text) || parseInt(text, 8) > 0o7777) {
    throw new InvalidParameterError(`invalid chmod parameter: '${text}'. it should be octal string and between 0 and 07777`);
  }
  return parseInt(text, 8);
}

/** The comment COPY/ADD commit with: `COPY --chown=1:1 file:<hex> in /dest ` (moby keeps the trailing space). */
export function copyComment(isAdd: boolean, srcHash: string, dest: string, chown?: string): string {
  return `${isAdd ? 'ADD' : 'COPY'} ${chown ? `--chown=${chown} ` : ''}${srcHash} in ${dest} `;
}

/** The container config a COPY/ADD step is cached and committed with. */
export function copyContainerConfig(st: StageState, comment: string): RunConfig {
  return nopConfig(st.config, comment, true);
}

/** Docker's error for a RUN that exits non-zero. */
export function runFailureMessage(cmd: readonly string[] | null | undefined, code: number): string {
  return `The command '${(cmd ?? []).join(' ')}' returned a non-zero code: ${code}`;
}

// RUN: the container runs the command with the build args in its env and no entrypoint or
// healthcheck; the cache key and history carry `|N K=V ...` before the command (the declared
// args only: an undeclared proxy arg changes neither).
function run(st: StageState, instr: Instruction): StepEffect {
  const used = Object.keys(instr.flags)[0];
  if (used !== undefined) throw new InvalidParameterError(`the --${used} option requires BuildKit. ${BUILDKIT_HINT}`);
  const cfg = st.config;
  const envList = cfg.Env ?? [];
  const cmd = commandLine(cfg, instr, false) ?? [];
  const buildArgs = st.args.filterAllowed(envList);
  let saveCmd = cmd;
  if (buildArgs.length > 0) {
    const kept = buildArgs.filter((e) => st.args.isReferencedOrNotBuiltin(e.split('=', 1)[0])).sort();
    saveCmd = [`|${kept.length}`, ...kept, ...cmd];
  }
  const containerConfig: RunConfig = { ...structuredClone(cfg), Cmd: saveCmd };
  delete containerConfig.ArgsEscaped;
  if (saveCmd.length > 0) containerConfig.Entrypoint = null;
  const runConfig: RunConfig = {
    ...structuredClone(cfg),
    Cmd: cmd,
    Env: [...envList, ...buildArgs],
    Healthcheck: { Test: ['NONE'] },
  };
  delete runConfig.ArgsEscaped;
  // [''] as in the API's create: no entrypoint (null would inherit the image's)
  if (saveCmd.length > 0) runConfig.Entrypoint = [''];
  return { kind: 'run', runConfig, containerConfig, createdBy: saveCmd.join(' ') };
}

// resolveCmdLine: shell form runs through the SHELL (default /bin/sh -c); ENTRYPOINT [] is nil.
function commandLine(cfg: RunConfig, instr: Instruction, emptyAsNil: boolean): string[] | null {
  let line: string[] = instr.json ? [...instr.args] : instr.args.length ? [instr.args.join(' ')] : [];
  if (emptyAsNil && line.length === 0) return null;
  if (!instr.json) line = [...shellOf(cfg), ...line];
  return line;
}

function shellOf(cfg: RunConfig): string[] {
  return cfg.Shell && cfg.Shell.length ? [...cfg.Shell] : [...DEFAULT_SHELL];
}

// The `#(nop) ` command moby commits metadata steps with: two arguments for most, one for
// WORKDIR/COPY/ADD (older Dockers did so and the cache keys must still match).
function nopConfig(cfg: RunConfig, comment: string, single: boolean): RunConfig {
  const c = structuredClone(cfg);
  c.Cmd = single ? [...shellOf(cfg), '#(nop) ' + comment] : [...shellOf(cfg), '#(nop) ', comment];
  return c;
}

function* triples(args: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < args.length; i += 3) yield [args[i], args[i + 1]];
}

function argPairs(instr: Instruction, env: Env, escape: string): { key: string; value: string | undefined }[] {
  return instr.args.map((a) => {
    const i = a.indexOf('=');
    try {
      if (i < 0) return { key: expandWord(a, env, escape), value: undefined };
      return { key: expandWord(a.slice(0, i), env, escape), value: expandWord(a.slice(i + 1), env, escape) };
    } catch (err) {
      invalid(err);
    }
  });
}

function omitZero(hc: HealthConfig): NonNullable<RunConfig['Healthcheck']> {
  const out: NonNullable<RunConfig['Healthcheck']> = { Test: hc.Test };
  if (hc.Interval) out.Interval = hc.Interval;
  if (hc.Timeout) out.Timeout = hc.Timeout;
  if (hc.StartPeriod) out.StartPeriod = hc.StartPeriod;
  if (hc.StartInterval) out.StartInterval = hc.StartInterval;
  if (hc.Retries) out.Retries = hc.Retries;
  return out;
}

function inheritZeros(hc: HealthConfig, old: RunConfig['Healthcheck'] | null | undefined): HealthConfig {
  if (!old) return hc;
  return {
    Test: hc.Test.length ? hc.Test : (old.Test ?? []),
    Interval: hc.Interval || old.Interval || 0,
    Timeout: hc.Timeout || old.Timeout || 0,
    StartPeriod: hc.StartPeriod || old.StartPeriod || 0,
    StartInterval: hc.StartInterval || old.StartInterval || 0,
    Retries: hc.Retries || old.Retries || 0,
  };
}

// %q of a *HealthConfig, as Docker 28's dispatchHealthcheck writes it in the history:
// `&{["CMD-SHELL" "curl x"] "30s" "0s" "0s" "0s" '\x03'}` (durations through their String(),
// the retry count as a quoted rune).
function healthString(hc: HealthConfig): string {
  const d = (n?: number) => goQuote(goDurationString(n ?? 0));
  return `&{${goQuoteList(hc.Test)} ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)} ${d(hc.StartInterval)} ${goQuoteRune(hc.Retries ?? 0)}}`;
}

function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

// moby's signal.ParseSignal (the engine has the same rule in engine/containers/signals.ts; images
// cannot import the engine).
function checkSignal(raw: string): void {
  const bad = () => new InvalidParameterError(`Invalid signal: ${raw}`);
  if (/^\d+$/.test(raw)) {
    if (Number(raw) === 0) throw bad();
    return;
  }
  const up = raw.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  if (/^SIGRTMIN(\+\d+)?$|^SIGRTMAX(-\d+)?$/.test(name)) return;
  if (!(name in (constants.signals as Record<string, number>))) throw bad();
}
