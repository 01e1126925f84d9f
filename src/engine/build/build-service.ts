// POST /build on the engine side: the context streamed to a directory of its own under the
// data-root (removed when the build ends, whatever happens, and at daemon start for a daemon
// that died mid-build), the Dockerfile read and parsed, the steps run by the images layer's
// BuildSession with containers from EngineBuildBackend, then the tags, as moby's
// api/server/backend/build (Successfully built / Successfully tagged).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { ImageService } from '../../images/image-service.js';
import { BuildCacheStore } from '../../images/build/build-cache.js';
import { readContextFile, readDockerfile, receiveContext, type ContextHashes } from '../../images/build/build-context.js';
import { BuildOutput } from '../../images/build/build-output.js';
import { BuildSession, type BuildOptions } from '../../images/build/build-session.js';
import { familiarString, parseNormalizedNamed, referenceName, withDefaultTag, type ImageReference } from '../../images/reference.js';
import type { JsonMessage } from '../../images/types.js';
import { InvalidParameterError } from '../../errors.js';
import { parseDockerfile } from '../../images/build/dockerfile/parse-dockerfile.js';
import { readDockerignore, removedFromContext } from '../../images/build/dockerfile/dockerignore.js';
import { planCopy } from '../../images/build/copy/plan-copy.js';
import type { ContainerService } from '../containers/service.js';
import { EngineBuildBackend } from './build-backend.js';

export interface BuildRequest extends BuildOptions {
  /** The `t` values as given. */
  tags: string[];
  /** Path of the Dockerfile in the context. */
  dockerfile: string;
  quiet: boolean;
}

export class BuildService {
  readonly cache: BuildCacheStore;
  private readonly backend: EngineBuildBackend;
  private readonly dir: string;

  constructor(
    db: Database,
    private readonly images: ImageService,
    containers: ContainerService,
    dataRoot: string,
    private readonly logger: Logger,
  ) {
    this.cache = new BuildCacheStore(db);
    this.backend = new EngineBuildBackend(containers);
    this.dir = join(dataRoot, 'builder');
    // contexts of builds a dead daemon left behind
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Checks what can be checked before the context is read (moby answers these with a 400). */
  validate(req: BuildRequest): ImageReference[] {
    return req.tags.map((t) => {
      let ref: ImageReference;
      try {
        ref = parseNormalizedNamed(t);
      } catch {
        throw new InvalidParameterError(`invalid reference format`);
      }
      if (ref.digest !== undefined) throw new InvalidParameterError('invalid reference format');
      return withDefaultTag(ref);
    });
  }

  /** Runs one build; messages go to `send`; resolves with the image ID. */
  async build(body: Readable, req: BuildRequest, send: (msg: JsonMessage) => void, signal: AbortSignal): Promise<string> {
    const tags = this.validate(req);
    const out = new BuildOutput(send, req.quiet);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(this.dir, 'build-'));
    const contextDir = join(work, 'context');
    const scratchDir = join(work, 'scratch');
    try {
      await mkdir(contextDir);
      await mkdir(scratchDir);
      const contentHashes: ContextHashes = new Map();
      await receiveContext(body, contextDir, signal, contentHashes);
      const { text, name } = await readDockerfile(contextDir, req.dockerfile);
      const dockerfile = parseDockerfile(text, name);
      // clients leave ignored files out of the tar already; COPY still honours the patterns, and
      // the Dockerfile and .dockerignore go when they name them (moby's removeDockerfile)
      const ignoreText = await readContextFile(contextDir, '.dockerignore');
      const ignore = ignoreText === undefined ? undefined : readDockerignore(ignoreText);
      if (ignore) for (const f of removedFromContext(ignore, name)) await rm(join(contextDir, f), { force: true });
      const session = new BuildSession(
        { images: this.images, cache: this.cache, backend: this.backend, planCopy, logger: this.logger },
        { contextDir, scratchDir, dockerfile, ignore, contentHashes, options: req, out, signal },
      );
      let id: string;
      try {
        try {
          id = await session.run();
        } catch (err) {
          out.flushHeld();
          throw err;
        }
        out.stream(`Successfully built ${id.replace(/^sha256:/, '').slice(0, 12)}\n`);
        for (const ref of tags) {
          this.images.tag(id, referenceName(ref), ref.tag);
          out.stream(`Successfully tagged ${familiarString(ref)}\n`);
        }
      } finally {
        // the images the build stood on (the result too, until it is tagged) may go now
        session.release();
      }
      if (out.quiet) out.always(`${id}\n`);
      return id;
    } finally {
      await rm(work, { recursive: true, force: true }).catch((err) => this.logger.warn({ err, work }, 'removing a build context failed'));
    }
  }
}
