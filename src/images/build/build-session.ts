// One `docker build` with the classic builder: the loop of moby's builder/dockerfile (builder.go
// dispatchDockerfileWithCancellation, dispatchers.go, internals.go). Each stage starts from its
// FROM image; each instruction after it gives an image whose parent is the one before, found
// in the layer cache when an image made on the same parent by a step with the same run config
// exists. RUN runs an ordinary container; COPY/ADD and WORKDIR write into a container that never
// starts; the other instructions only change the config (a config-only image).
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import type { ImageService } from '../image-service.js';
import type { ImageRecord, RegistryAuth } from '../types.js';
import type { BuildBackend, BuildHostOptions } from './backend.js';
import { BuildArgs, prependEnvOnCmd } from './build-args.js';
import type { BuildCacheStore } from './build-cache.js';
import type { BuildOutput } from './build-output.js';
import { BuildStepError } from './build-errors.js';
import { scratchLayer } from './scratch-layer.js';
import { createStepImage } from './step-image.js';
import type { CopyPlan, CopyRequest, IgnoreMatcher, Instruction, ParsedDockerfile, RunConfig, Stage } from './types.js';
import { applyConfigInstruction, expandWith, type ExpandFn } from './config-steps.js';
import { parseTrigger } from './dockerfile/parse-dockerfile.js';

export interface BuildOptions {
  /** Normalised tag references for the final image. */
  tags: string[];
  buildArgs: Map<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  rm: boolean;
  forceRm: boolean;
  platform?: string;
  host: BuildHostOptions;
  /** X-Registry-Config: registry host -> credentials, for FROM pulls. */
  registryAuth: Record<string, RegistryAuth>;
}

export interface BuildDeps {
  images: ImageService;
  cache: BuildCacheStore;
  backend: BuildBackend;
  planCopy(req: CopyRequest): Promise<CopyPlan>;
  logger: Logger;
}

export interface BuildInput {
  contextDir: string;
  /** Where ADD may download (removed with the build). */
  scratchDir: string;
  dockerfile: ParsedDockerfile;
  ignore?: IgnoreMatcher;
  options: BuildOptions;
  out: BuildOutput;
  signal: AbortSignal;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

interface StageState {
  /** undefined: scratch with nothing committed yet. */
  image: ImageRecord | undefined;
  runConfig: RunConfig;
  args: BuildArgs;
  platform?: { os: string; architecture: string };
  /** A CMD was given in this stage (ENTRYPOINT keeps it). */
  cmdSet?: boolean;
}

export class BuildSession {
  /** Stage name (lower-cased) or index -> its last image. */
  private readonly stages = new Map<string, ImageRecord | undefined>();
  private step = 0;
  private total = 0;
  /** Containers this build made that must go when it ends (rm rules apply to RUN's). */
  private readonly escape: string;

  constructor(
    private readonly deps: BuildDeps,
    private readonly input: BuildInput,
  ) {
    this.escape = input.dockerfile.escape;
  }

  private get out(): BuildOutput {
    return this.input.out;
  }

  private printStep(original: string): void {
    this.step++;
    // moby writes the step line and its newline as two messages
    this.out.stream(`Step ${this.step}/${this.total} : ${original}`);
    this.out.stream('\n');
  }

  async run(): Promise<string> {
    const { dockerfile, options } = this.input;
    let stages: Stage[] = dockerfile.stages;
    if (stages.length === 0) throw new InvalidParameterError('the Dockerfile (Dockerfile) cannot be empty');
    const labels = labelInstruction(options.labels);
    // --label is a LABEL moby appends to the Dockerfile: a step of the last stage (none with an earlier --target)
    if (labels) stages = [...stages.slice(0, -1), { ...stages.at(-1)!, instructions: [...stages.at(-1)!.instructions, labels] }];
    if (options.target !== undefined && options.target !== '') {
      const t = options.target.toLowerCase();
      const ix = stages.findIndex((s) => s.name === t);
      if (ix < 0) throw new InvalidParameterError(`failed to reach build target ${options.target} in Dockerfile`);
      stages = stages.slice(0, ix + 1);
    }
    this.total = dockerfile.metaArgs.length + stages.length + stages.reduce((n, s) => n + s.instructions.length, 0);
    const args = new BuildArgs(options.buildArgs);
    for (const meta of dockerfile.metaArgs) {
      this.printStep(meta.original);
      for (const [k, v] of parseArgWords(meta, expandWith(args.allMeta(), this.escape))) args.addMetaArg(k, v);
    }
    let last: StageState | undefined;
    for (const [i, stage] of stages.entries()) {
      if (stage.name !== undefined && this.stages.has(stage.name)) throw new InvalidParameterError(`duplicate name ${stage.name}`);
      this.printStep(stage.from.original);
      const state = await this.beginStage(stage, args);
      this.out.stream(` ---> ${state.image ? short(state.image.id) : ''}\n`);
      for (const ins of stage.instructions) {
        if (this.input.signal.aborted) {
          this.out.stream('Build cancelled\n');
          throw new InvalidParameterError('Build cancelled');
        }
        this.printStep(ins.original);
        await this.dispatch(state, ins);
        this.out.stream(` ---> ${state.image ? short(state.image.id) : ''}\n`);
      }
      if (state.image) this.out.aux(state.image.id);
      this.stages.set(String(i), state.image);
      if (stage.name !== undefined) this.stages.set(stage.name, state.image);
      last = state;
    }
    const unused = args.unused();
    if (unused.length > 0) this.out.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    if (!last?.image) throw new InvalidParameterError('No image was generated. Is your Dockerfile empty?');
    return last.image.id;
  }

  // ---- FROM ----

  private async beginStage(stage: Stage, args: BuildArgs): Promise<StageState> {
    args.resetAllowed();
    const expand = expandWith(args.allMeta(), this.escape);
    const name = expand(stage.from.args[0] ?? '');
    if (name === '') throw new InvalidParameterError('base name (' + (stage.from.args[0] ?? '') + ') should not be blank');
    const platformFlag = stage.from.flags.platform !== undefined ? expand(stage.from.flags.platform) : undefined;
    let image: ImageRecord | undefined;
    const lower = name.toLowerCase();
    if (this.stages.has(lower)) image = this.stages.get(lower);
    else if (lower !== 'scratch') image = await this.baseImage(name, platformFlag ?? this.input.options.platform);
    const runConfig: RunConfig = structuredClone(image?.config.config ?? {});
    if (!(runConfig.Env ?? []).some((e) => e.startsWith('PATH='))) runConfig.Env = [...(runConfig.Env ?? []), DEFAULT_PATH];
    const [os, architecture] = (platformFlag ?? this.input.options.platform ?? 'linux/amd64').split('/');
    const state: StageState = { image, runConfig, args, platform: { os: os || 'linux', architecture: architecture || 'amd64' } };
    // the base image's ONBUILD triggers run as part of FROM (moby's processOnBuild)
    const triggers = image?.config.config?.OnBuild ?? [];
    if (triggers.length > 0) {
      state.runConfig.OnBuild = null;
      this.out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) await this.dispatch(state, parseTrigger(t));
    }
    return state;
  }

  /** The FROM image: local unless --pull, else pulled with the X-Registry-Config credentials. */
  private async baseImage(name: string, platform: string | undefined): Promise<ImageRecord> {
    const { images } = this.deps;
    if (!this.input.options.pull) {
      try {
        return images.get(name);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    const domain = name.includes('/') && /[.:]|^localhost$/.test(name.split('/')[0]) ? name.split('/')[0] : 'docker.io';
    const auth = this.input.options.registryAuth[domain] ?? (domain === 'docker.io' ? this.input.options.registryAuth['https://index.docker.io/v1/'] : undefined);
    return images.pull(name, { auth, platform, progress: (m) => this.out.progress(m), signal: this.input.signal });
  }

  // ---- dispatch ----

  private env(state: StageState): ExpandFn {
    const base = state.runConfig.Env ?? [];
    const all = new Map<string, string>();
    for (const e of [...base, ...state.args.filterAllowed(base)]) {
      const i = e.indexOf('=');
      all.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return expandWith(all, this.escape);
  }

  private shell(state: StageState): string[] {
    return state.runConfig.Shell?.length ? state.runConfig.Shell : DEFAULT_SHELL;
  }

  private async dispatch(state: StageState, ins: Instruction): Promise<void> {
    switch (ins.keyword) {
      case 'RUN':
        return this.runStep(state, ins);
      case 'COPY':
      case 'ADD':
        return this.copyStep(state, ins);
      case 'WORKDIR':
        return this.workdirStep(state, ins);
      case 'FROM':
        throw new InvalidParameterError('FROM inside a stage');
      default: {
        const r = applyConfigInstruction(ins, { runConfig: state.runConfig, expand: this.env(state), shell: this.shell(state), escape: this.escape });
        for (const [k, v] of r.args ?? []) state.args.addArg(k, v);
        state.runConfig = r.runConfig;
        // moby: an ENTRYPOINT drops the CMD a base image had, unless this stage set one
        if (ins.keyword === 'CMD') state.cmdSet = true;
        if (ins.keyword === 'ENTRYPOINT' && !state.cmdSet) state.runConfig = { ...state.runConfig, Cmd: null };
        return this.configStep(state, r.comment);
      }
    }
  }

  /** A step that only changes the config: `#(nop) ` + comment as two Cmd words (moby's withCmdComment). */
  private async configStep(state: StageState, comment: string): Promise<void> {
    const probe: RunConfig = { ...state.runConfig, Cmd: [...this.shell(state), '#(nop) ', comment] };
    if (this.probe(state, probe, comment)) return;
    const img = await createStepImage(this.deps.images.storage, state.image, null, {
      config: state.runConfig,
      createdBy: probe.Cmd!.join(' '),
      platform: state.platform,
    });
    this.record(state, img, probe, comment);
  }

  /** A cache hit moves the stage on to the cached image; true when it did. */
  private probe(state: StageState, probe: RunConfig, description: string): boolean {
    if (this.input.options.noCache) return false;
    const id = this.deps.cache.find(state.image?.id ?? '', probe, (i) => this.exists(i));
    if (id === undefined) return false;
    void description;
    this.out.stream(' ---> Using cache\n');
    state.image = this.deps.images.get(id);
    return true;
  }

  private exists(id: string): boolean {
    try {
      this.deps.images.get(id);
      return true;
    } catch {
      return false;
    }
  }

  private record(state: StageState, img: ImageRecord, probe: RunConfig, description: string): void {
    this.deps.cache.record(img.id, state.image?.id ?? '', probe, description);
    state.image = img;
  }

  // ---- RUN ----

  private async runStep(state: StageState, ins: Instruction): Promise<void> {
    const cmd = ins.json ? ins.args : [...this.shell(state), ins.args[0] ?? ''];
    const buildEnv = state.args.filterAllowed(state.runConfig.Env ?? []);
    const saveCmd = buildEnv.length > 0 ? prependEnvOnCmd(state.args, buildEnv, cmd) : cmd;
    const probe: RunConfig = { ...state.runConfig, Cmd: saveCmd, Entrypoint: saveCmd.length > 0 ? null : state.runConfig.Entrypoint };
    const description = saveCmd.join(' ');
    if (this.probe(state, probe, description)) return;
    if (!state.image) throw new InvalidParameterError(`The command '${cmd.join(' ')}' returned a non-zero code: 127`);
    const { backend } = this.deps;
    const config: RunConfig = {
      ...state.runConfig,
      Cmd: cmd,
      Env: [...(state.runConfig.Env ?? []), ...buildEnv],
      Entrypoint: [],
      Healthcheck: { Test: ['NONE'] },
    };
    const id = await backend.create(state.image.id, config, this.input.options.host);
    this.out.stream(` ---> Running in ${short(id)}\n`);
    let failed = true;
    try {
      const code = await backend.run(id, (chunk) => this.out.stream(chunk.toString('utf8')), this.input.signal);
      if (code !== 0) throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      const img = await createStepImage(this.deps.images.storage, state.image, backend.layer(id), { config: state.runConfig, createdBy: description });
      this.record(state, img, probe, description);
      failed = false;
    } finally {
      const { rm, forceRm } = this.input.options;
      if (forceRm || (rm && !failed)) {
        await backend.remove(id);
        this.out.stream(`Removing intermediate container ${short(id)}\n`);
      }
    }
  }

  // ---- WORKDIR ----

  private async workdirStep(state: StageState, ins: Instruction): Promise<void> {
    const raw = this.env(state)(ins.args[0] ?? '');
    const dir = posix.resolve('/', state.runConfig.WorkingDir || '/', raw);
    state.runConfig = { ...state.runConfig, WorkingDir: dir };
    const comment = `WORKDIR ${dir}`;
    const probe: RunConfig = { ...state.runConfig, Cmd: [...this.shell(state), `#(nop) ${comment}`] };
    if (this.probe(state, probe, comment)) return;
    const layer = state.image ? undefined : scratchLayer([{ path: dir, type: 'directory' }]);
    await this.containerStep(state, probe, comment, layer, (id) => this.deps.backend.mkdirAll(id, dir));
  }

  /**
   * A step whose changes are written into a container that never starts, then committed. On
   * scratch there is no image to make a container from: the layer is made directly.
   */
  private async containerStep(state: StageState, probe: RunConfig, description: string, scratch: Readable | undefined, write: (id: string) => Promise<void>): Promise<void> {
    const createdBy = probe.Cmd!.join(' ');
    if (!state.image) {
      const img = await createStepImage(this.deps.images.storage, undefined, scratch ?? null, { config: state.runConfig, createdBy, platform: state.platform });
      this.record(state, img, probe, description);
      return;
    }
    const { backend } = this.deps;
    const id = await backend.create(state.image.id, probe, this.input.options.host);
    try {
      await write(id);
      const img = await createStepImage(this.deps.images.storage, state.image, backend.layer(id), { config: state.runConfig, createdBy });
      this.record(state, img, probe, description);
    } finally {
      await backend.remove(id);
    }
  }

  // ---- COPY / ADD ----

  private async copyStep(state: StageState, ins: Instruction): Promise<void> {
    const expand = this.env(state);
    const words = ins.args.map((a) => expand(a));
    if (words.length < 2) throw new InvalidParameterError(`${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const dest = words.at(-1)!;
    const sources = words.slice(0, -1);
    const from = ins.flags.from !== undefined ? expand(ins.flags.from) : undefined;
    if (from !== undefined && ins.keyword === 'ADD') throw new InvalidParameterError('ADD does not support the --from flag');
    const chownSpec = ins.flags.chown !== undefined ? expand(ins.flags.chown) : undefined;
    const chmod = ins.flags.chmod !== undefined ? parseChmod(expand(ins.flags.chmod)) : undefined;
    const { backend } = this.deps;
    const workdir = state.runConfig.WorkingDir || '/';

    // The source root: the context, or a rootfs of an earlier stage or an image.
    let fromImage: ImageRecord | undefined;
    if (from !== undefined) {
      const key = from.toLowerCase();
      if (this.stages.has(key)) fromImage = this.stages.get(key);
      else if (/^[0-9]+$/.test(from)) throw new InvalidParameterError(`invalid from flag value ${from}: refers to current build stage`);
      else fromImage = await this.baseImage(from, this.input.options.platform);
    }

    let stepContainer: string | undefined;
    try {
      let chown: { uid: number; gid: number } | undefined;
      if (chownSpec !== undefined) {
        const numeric = /^([0-9]+)(?::([0-9]+))?$/.exec(chownSpec);
        if (numeric) chown = { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
        else if (!state.image) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${chownSpec}: no such user`);
        else {
          stepContainer = await backend.create(state.image.id, { ...state.runConfig, Cmd: [...this.shell(state), '#(nop) '] }, this.input.options.host);
          chown = await backend.resolveUser(stepContainer, chownSpec);
        }
      }
      const base = { isAdd: ins.keyword === 'ADD', sources, dest, workdir, chown, chownFlag: ins.flags.chown, chmod, shell: this.shell(state), signal: this.input.signal, scratchDir: this.input.scratchDir };
      const apply = async (p: CopyPlan) => {
        try {
          const probe: RunConfig = { ...state.runConfig, Cmd: [...this.shell(state), `#(nop) ${p.comment}`] };
          if (this.probe(state, probe, p.comment)) return;
          if (!state.image) {
            const img = await createStepImage(this.deps.images.storage, undefined, await p.tar(), { config: state.runConfig, createdBy: p.createdBy, platform: state.platform });
            this.record(state, img, probe, p.comment);
            return;
          }
          stepContainer ??= await backend.create(state.image.id, probe, this.input.options.host);
          await backend.copyInto(stepContainer, (root) => p.tar(root));
          const img = await createStepImage(this.deps.images.storage, state.image, backend.layer(stepContainer), { config: state.runConfig, createdBy: p.createdBy });
          this.record(state, img, probe, p.comment);
        } finally {
          await p.release();
        }
      };
      if (from === undefined) {
        await apply(await this.deps.planCopy({ ...base, sourceRoot: this.input.contextDir, ignore: this.input.ignore }));
        return;
      }
      if (!fromImage) throw new InvalidParameterError(`${ins.keyword} --from=${from}: the stage has no files (scratch)`);
      // the source image's rootfs stays mounted until the step has read it
      const src = await backend.create(fromImage.id, { ...(fromImage.config.config ?? {}), Cmd: ['/bin/sh', '-c', '#(nop) '], Entrypoint: [] }, {});
      try {
        await backend.withRootfs(src, async (rootfs) => apply(await this.deps.planCopy({ ...base, sourceRoot: rootfs, from })));
      } finally {
        await backend.remove(src);
      }
    } finally {
      if (stepContainer !== undefined) await backend.remove(stepContainer);
    }
  }
}

/** moby's NodeFromLabels: `LABEL "k"="v" ...`, keys sorted. */
function labelInstruction(labels: Record<string, string>): Instruction | undefined {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return undefined;
  const args = keys.flatMap((k) => [JSON.stringify(k), JSON.stringify(labels[k]), '=']);
  return { keyword: 'LABEL', line: 0, original: `LABEL ${keys.map((k) => `${JSON.stringify(k)}=${JSON.stringify(labels[k])}`).join(' ')}`, flags: {}, args, json: false };
}

function parseChmod(s: string): number {
  if (!/^[0-7]{1,4}$/.test(s)) throw new InvalidParameterError(`invalid chmod parameter ${s}`);
  return parseInt(s, 8);
}

/** `ARG a=1 b` -> [a, '1'], [b, undefined], values expanded. */
function parseArgWords(ins: Instruction, expand: ExpandFn): [string, string | undefined][] {
  return ins.args.map((w) => {
    const i = w.indexOf('=');
    return i < 0 ? [w, undefined] : [w.slice(0, i), expand(w.slice(i + 1))];
  });
}
