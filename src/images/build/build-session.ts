// One `docker build` with the classic builder: the loop of moby's builder/dockerfile (builder.go
// dispatchDockerfileWithCancellation, internals.go). What an instruction does to the config,
// its cache key and its history line come from dockerfile/instructions.ts; this file runs the
// steps. Each stage starts from its FROM image; each instruction gives an image whose parent is
// the one before, taken from the layer cache when an image made on the same parent by a step
// with the same container config exists. RUN runs an ordinary container; COPY/ADD and WORKDIR
// write into a container that never starts; the other instructions only change the config.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import type { ImageService } from '../image-service.js';
import { parseNormalizedNamed } from '../reference.js';
import type { ImageRecord, JsonMessage, RegistryAuth } from '../types.js';
import type { BuildBackend, BuildHostOptions } from './backend.js';
import type { BuildCacheStore } from './build-cache.js';
import { contentKey, type ContextHashes } from './build-context.js';
import { BuildStepError } from './build-errors.js';
import type { BuildOutput } from './build-output.js';
import { BuildArgs } from './dockerfile/build-args.js';
import {
  applyInstruction,
  applyMetaArg,
  beginStage,
  copyContainerConfig,
  expandFrom,
  labelOptionInstructions,
  runFailureMessage,
  type StageState,
  type StepEffect,
} from './dockerfile/instructions.js';
import { parseTrigger } from './dockerfile/parse-dockerfile.js';
import { scratchLayer } from './scratch-layer.js';
import { copyLayer } from './copy-layer.js';
import { RootDir } from '../../util/in-root/root-dir.js';
import { createStepImage } from './step-image.js';
import type { CopyPlan, CopyRequest, IgnoreMatcher, Instruction, ParsedDockerfile, RunConfig, Stage } from './types.js';
import { faultPoint } from '../../util/fault-point.js';

export interface BuildOptions {
  buildArgs: Record<string, string | null>;
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
  /** Content hashes of the context's files, taken as it was received. */
  contentHashes?: ContextHashes;
  options: BuildOptions;
  out: BuildOutput;
  signal: AbortSignal;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/**
 * --chmod is not in moby's comment (its classic builder refuses the flag): it goes in after the
 * keyword, as --chown does, so the cache tells copies with different modes apart.
 */
function withChmod(comment: string, chmod: number | undefined): string {
  if (chmod === undefined) return comment;
  return comment.replace(/^(COPY|ADD) /, `$1 --chmod=${chmod.toString(8).padStart(4, '0')} `);
}
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A stage being built: its last image (undefined: scratch with nothing committed yet) and config state. */
interface Current {
  image: ImageRecord | undefined;
  st: StageState;
  platform: { os: string; architecture: string; variant?: string };
}

export class BuildSession {
  /** Stage name (lower-cased) or index -> its last image. */
  private readonly stages = new Map<string, ImageRecord | undefined>();
  private step = 0;
  private total = 0;
  private readonly escape: string;
  /** Releases of the images this build holds (its bases, step images, --from sources). */
  private readonly held: (() => void)[] = [];

  constructor(
    private readonly deps: BuildDeps,
    private readonly input: BuildInput,
  ) {
    this.escape = input.dockerfile.escape;
  }

  /** Keeps `img` from rmi and prune until release(): the build's next step stands on it. */
  private hold<T extends ImageRecord | undefined>(img: T): T {
    if (img) this.held.push(this.deps.images.holds.hold(img.id));
    return img;
  }

  /** Lets go of every image the build held; the caller tags the result first. */
  release(): void {
    for (const r of this.held.splice(0)) r();
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

  private printImage(cur: Current): void {
    this.out.stream(` ---> ${cur.image ? short(cur.image.id) : ''}\n`);
  }

  /** Runs every step; resolves with the final image's ID. */
  async run(): Promise<string> {
    const { dockerfile, options } = this.input;
    let stages: Stage[] = dockerfile.stages;
    if (stages.length === 0) throw new InvalidParameterError('the Dockerfile (Dockerfile) cannot be empty');
    // --label: LABEL steps moby appends to the Dockerfile, so the last stage's (none with an earlier --target)
    const labels = labelOptionInstructions(options.labels);
    if (labels.length > 0) stages = [...stages.slice(0, -1), { ...stages.at(-1)!, instructions: [...stages.at(-1)!.instructions, ...labels] }];
    if (options.target) {
      const ix = stages.findIndex((s) => s.name === options.target!.toLowerCase());
      if (ix < 0) throw new InvalidParameterError(`failed to reach build target ${options.target} in Dockerfile`);
      stages = stages.slice(0, ix + 1);
    }
    this.total = dockerfile.metaArgs.length + stages.length + stages.reduce((n, s) => n + s.instructions.length, 0);
    const args = new BuildArgs(options.buildArgs);
    for (const meta of dockerfile.metaArgs) {
      this.printStep(meta.original);
      applyMetaArg(args, meta, this.escape);
    }
    let last: Current | undefined;
    for (const [i, stage] of stages.entries()) {
      if (stage.name !== undefined && this.stages.has(stage.name)) throw new InvalidParameterError(`duplicate name ${stage.name}`);
      this.printStep(stage.from.original);
      const cur = await this.beginStage(stage, args);
      this.printImage(cur);
      for (const ins of stage.instructions) {
        this.checkCancelled();
        this.printStep(ins.original);
        await this.dispatch(cur, ins);
        this.printImage(cur);
      }
      if (cur.image) this.out.aux(cur.image.id);
      // beginStage made it with args.forStage()
      args.mergeReferenced(cur.st.args as BuildArgs);
      this.stages.set(String(i), cur.image);
      if (stage.name !== undefined) this.stages.set(stage.name, cur.image);
      last = cur;
    }
    const warning = args.unusedWarning();
    if (warning) this.out.stream(warning);
    if (!last?.image) throw new InvalidParameterError('No image was generated. Is your Dockerfile empty?');
    return last.image.id;
  }

  private checkCancelled(): void {
    if (!this.input.signal.aborted) return;
    this.out.stream('Build cancelled\n');
    throw new InvalidParameterError('Build cancelled');
  }

  // ---- FROM ----

  private async beginStage(stage: Stage, args: BuildArgs): Promise<Current> {
    const { image: name, platform: platformFlag } = expandFrom(stage.from, args, this.escape);
    const platform = platformFlag || this.input.options.platform;
    let image: ImageRecord | undefined;
    const lower = name.toLowerCase();
    if (this.stages.has(lower)) image = this.stages.get(lower);
    else if (lower !== 'scratch') image = this.hold(await this.baseImage(name, platform));
    const [os, architecture, variant] = (platform ?? 'linux/amd64').split('/');
    const cur: Current = {
      image,
      st: beginStage(image?.config.config, args, stage.name, this.escape),
      platform: { os: os || 'linux', architecture: architecture || 'amd64', ...(variant ? { variant } : {}) },
    };
    // the base image's ONBUILD triggers run as part of FROM (moby's processOnBuild)
    const triggers = cur.st.triggers;
    if (triggers.length > 0) {
      this.out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) await this.dispatch(cur, parseTrigger(t));
    }
    return cur;
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
    return images.pull(name, { auth: this.authFor(name), platform, progress: (m) => this.out.progress(m), signal: this.input.signal });
  }

  /** X-Registry-Config is keyed by registry host; Docker Hub's key is its v1 index URL. */
  private authFor(name: string): RegistryAuth | undefined {
    const all = this.input.options.registryAuth;
    let domain: string;
    try {
      domain = parseNormalizedNamed(name).domain;
    } catch {
      return undefined;
    }
    if (domain === 'docker.io') return all['https://index.docker.io/v1/'] ?? all['docker.io'] ?? all['index.docker.io'];
    return all[domain] ?? all[`https://${domain}`] ?? all[`http://${domain}`];
  }

  // ---- the steps ----

  private async dispatch(cur: Current, ins: Instruction): Promise<void> {
    const e = applyInstruction(cur.st, ins);
    switch (e.kind) {
      case 'commit':
        if (e.note) this.out.stream(e.note);
        if (this.probe(cur, e.containerConfig)) return;
        return this.commit(cur, null, e.containerConfig, e.createdBy);
      case 'workdir':
        return this.workdirStep(cur, e);
      case 'run':
        return this.runStep(cur, e);
      case 'copy':
        return this.copyStep(cur, e);
    }
  }

  /** A cache hit moves the stage on to the cached image; true when it did. */
  private probe(cur: Current, containerConfig: RunConfig): boolean {
    if (this.input.options.noCache) return false;
    const id = this.deps.cache.find(cur.image?.id ?? '', containerConfig, (i) => this.exists(i));
    if (id === undefined) return false;
    this.out.stream(' ---> Using cache\n');
    cur.image = this.hold(this.deps.images.get(id));
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

  /** The step's image (a layer when `layer` is given), recorded in the cache under its container config. */
  private async commit(cur: Current, layer: Readable | null, containerConfig: RunConfig, createdBy: string): Promise<void> {
    const img = await createStepImage(this.deps.images.storage, cur.image, layer, {
      config: structuredClone(cur.st.config),
      createdBy,
      author: cur.st.maintainer,
      platform: cur.platform,
    });
    this.deps.cache.record(img.id, cur.image?.id ?? '', containerConfig, createdBy);
    cur.image = this.hold(img);
  }

  // ---- RUN ----

  private async runStep(cur: Current, e: Extract<StepEffect, { kind: 'run' }>): Promise<void> {
    if (this.probe(cur, e.containerConfig)) return;
    if (!cur.image) throw new BuildStepError(runFailureMessage(e.runConfig.Cmd, 127), 127);
    const { backend } = this.deps;
    this.checkCancelled();
    const id = await backend.create(cur.image.id, e.runConfig, this.input.options.host);
    this.out.stream(` ---> Running in ${short(id)}\n`);
    let failed = true;
    try {
      const code = await backend.run(id, (chunk) => this.out.stream(chunk.toString('utf8')), this.input.signal);
      this.checkCancelled();
      if (code !== 0) throw new BuildStepError(runFailureMessage(e.runConfig.Cmd, code), code);
      faultPoint('build.after-run');
      await this.commit(cur, backend.layer(id), e.containerConfig, e.createdBy);
      failed = false;
    } finally {
      // moby keeps a failed step's container unless --force-rm (for a look inside); a
      // cancelled build (the client left) leaves nothing
      const { rm, forceRm } = this.input.options;
      if (forceRm || (rm && !failed) || this.input.signal.aborted) {
        await backend.remove(id);
        this.out.stream(`Removing intermediate container ${short(id)}\n`);
      }
    }
  }

  // ---- WORKDIR ----

  private async workdirStep(cur: Current, e: Extract<StepEffect, { kind: 'workdir' }>): Promise<void> {
    if (this.probe(cur, e.containerConfig)) return;
    if (!cur.image) return this.commit(cur, scratchLayer([{ path: e.dir, type: 'directory' }]), e.containerConfig, e.createdBy);
    const { backend } = this.deps;
    const id = await backend.create(cur.image.id, e.containerConfig, this.input.options.host);
    try {
      await backend.mkdirAll(id, e.dir);
      await this.commit(cur, backend.layer(id), e.containerConfig, e.createdBy);
    } finally {
      await backend.remove(id);
    }
  }

  // ---- COPY / ADD ----

  private async copyStep(cur: Current, e: Extract<StepEffect, { kind: 'copy' }>): Promise<void> {
    const { backend } = this.deps;
    const keyword = e.isAdd ? 'ADD' : 'COPY';
    if (e.sources.length < 1) throw new InvalidParameterError(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    // the source root: the context, or a rootfs of an earlier stage or an image
    let fromImage: ImageRecord | undefined;
    if (e.from !== undefined) {
      const key = e.from.toLowerCase();
      if (this.stages.has(key)) fromImage = this.stages.get(key);
      else if (/^[0-9]+$/.test(e.from)) throw new InvalidParameterError(`invalid from flag value ${e.from}: refers to current build stage`);
      else fromImage = this.hold(await this.baseImage(e.from, this.input.options.platform));
      if (!fromImage) throw new InvalidParameterError(`${keyword} --from=${e.from}: the stage has no files (it is FROM scratch with nothing added)`);
    }
    let stepContainer: string | undefined;
    const container = async (config: RunConfig) => (stepContainer ??= await backend.create(cur.image!.id, config, this.input.options.host));
    try {
      let chown: { uid: number; gid: number } | undefined;
      if (e.chown !== undefined) {
        const numeric = /^([0-9]+)(?::([0-9]+))?$/.exec(e.chown);
        if (numeric) chown = { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
        else if (!cur.image) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${e.chown}: no such user`);
        else chown = await backend.resolveUser(await container({ ...cur.st.config, Cmd: [...DEFAULT_SHELL, '#(nop) '] }), e.chown);
      }
      const request = {
        isAdd: e.isAdd,
        sources: e.sources,
        dest: e.dest,
        workdir: cur.st.config.WorkingDir || '/',
        chown,
        chownFlag: e.chown,
        chmod: e.chmod,
        shell: cur.st.config.Shell?.length ? cur.st.config.Shell : DEFAULT_SHELL,
        scratchDir: this.input.scratchDir,
        signal: this.input.signal,
        // an ADD URL's download shows as moby's 'Downloading' progress
        progress: (m: JsonMessage) => this.out.progress(m),
      };
      const apply = async (plan: CopyPlan) => {
        try {
          const containerConfig = copyContainerConfig(cur.st, withChmod(plan.comment, e.chmod));
          if (this.probe(cur, containerConfig)) return;
          const createdBy = (containerConfig.Cmd ?? []).join(' ');
          if (!cur.image) return await this.commit(cur, await plan.tar(), containerConfig, createdBy);
          const id = await container(containerConfig);
          // the layer straight from the plan; the cases it does not cover go through the container
          const direct = await backend.withRootfs(id, (rootfs) =>
            RootDir.with(rootfs, async (root) => {
              const layer = copyLayer(await plan.tar(root), rootfs);
              try {
                await this.commit(cur, layer.tar, containerConfig, createdBy);
                return true;
              } catch (err) {
                if (layer.fallback()) {
                  this.deps.logger.debug({ err }, 'build: COPY through the step container');
                  return false;
                }
                throw err;
              }
            }),
          );
          if (direct) return;
          await backend.copyInto(id, (root) => plan.tar(root));
          await this.commit(cur, backend.layer(id), containerConfig, createdBy);
        } finally {
          await plan.release();
        }
      };
      if (!fromImage) {
        const hashes = this.input.contentHashes;
        await apply(await this.deps.planCopy({ ...request, sourceRoot: this.input.contextDir, ignore: this.input.ignore, knownContent: (st) => hashes?.get(contentKey(st)) }));
        return;
      }
      // the source image's rootfs stays mounted until the step has read it
      const src = await backend.create(fromImage.id, { ...(fromImage.config.config ?? {}), Cmd: [...DEFAULT_SHELL, '#(nop) '], Entrypoint: [''] }, {});
      try {
        await backend.withRootfs(src, async (rootfs) => apply(await this.deps.planCopy({ ...request, sourceRoot: rootfs, from: e.from })));
      } finally {
        await backend.remove(src);
      }
    } finally {
      if (stepContainer !== undefined) await backend.remove(stepContainer);
    }
  }
}
