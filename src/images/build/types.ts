// The seams of the classic builder (POST /build), so that its parts can be read apart:
//   dockerfile/  text -> ParsedDockerfile (dockerfile-ast), word expansion, .dockerignore, and
//                the pure effect of each metadata instruction on the image config
//   copy/        COPY/ADD (copy/plan-copy.ts planCopy): sources in a context or a rootfs -> one tar to extract at the dest
//   (executor)   the step loop, stages, the layer cache, RUN through a BuildBackend, the
//                output stream; the engine implements BuildBackend (it runs containers)
import type { Readable } from 'node:stream';
import type { Stats } from 'node:fs';
import type { ImageContainerConfig, ProgressFn } from '../types.js';
import type { RootDir } from '../../util/in-root/root-dir.js';

/** One Dockerfile instruction as written, before any expansion. */
export interface Instruction {
  /** Upper-case keyword: 'FROM', 'RUN', 'COPY', ... (unknown ones are parse errors). */
  keyword: string;
  /** 1-based line of the instruction's first line, for error messages. */
  line: number;
  /** The instruction as Docker prints it in `Step N/M : ...` (continuations joined, comments dropped). */
  original: string;
  /**
   * `--name=value` flags before the arguments, checked against what the keyword accepts (COPY
   * --from, --chown, --chmod; FROM --platform; RUN --mount parses and is refused when run); bool
   * flags 'true'/'false', repeated ones joined by '\n'; in the order written.
   */
  flags: Record<string, string>;
  /**
   * The parser's words, unexpanded (per keyword: see dockerfile/parse-dockerfile.ts). RUN, CMD,
   * ENTRYPOINT, SHELL: JSON form the array, shell form one string; COPY/ADD: sources..., dest;
   * ENV/LABEL: (key, value, '='|'') triples; ONBUILD: [trigger text].
   */
  args: string[];
  json: boolean;
  /** Set on the LABELs that `--label` adds: moby does not expand their values. */
  noExpand?: boolean;
}

export interface Stage {
  /** The FROM instruction that opens the stage. */
  from: Instruction;
  /** `AS name`, lower-cased as Docker does; undefined when unnamed. */
  name?: string;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** The `# escape=` directive's character ('\\' by default). */
  escape: string;
  /** ARG instructions before the first FROM (they only expand FROM lines). */
  metaArgs: Instruction[];
  stages: Stage[];
  /** Parser warnings (empty continuation lines); parse-dockerfile's warningText words them for stderr. */
  warnings?: string[];
}

/** Whether a path of the context is left out by .dockerignore (paths are context-relative, '/'-separated). */
export interface IgnoreMatcher {
  ignores(relPath: string): boolean;
  /** True when some `!` exception could re-include something under the dir (so a walk must descend). */
  mayIncludeUnder(relDir: string): boolean;
}

/** One COPY or ADD after expansion, as the executor hands it to copy/. */
export interface CopyRequest {
  isAdd: boolean;
  /** Source patterns as written (after variable expansion); globs allowed; ADD also takes http(s) URLs. */
  sources: string[];
  /** Destination as written (after expansion); relative ones are against `workdir`. */
  dest: string;
  workdir: string;
  /** Where sources are read: the build context dir, or a rootfs (an earlier stage or --from image). */
  sourceRoot: string;
  /** The --from value when `sourceRoot` is a stage's or an image's rootfs (Docker words its errors differently then). */
  from?: string;
  /** Only for the context (undefined for --from roots). */
  ignore?: IgnoreMatcher;
  /** Only for the context: a file's content sha256 (hex) when known from receiving it (by its stat), so it is not read again. */
  knownContent?: (st: Stats) => string | undefined;
  /** --chown resolved to numbers by the executor (names looked up in the image's /etc/passwd, /etc/group). */
  chown?: { uid: number; gid: number };
  /** --chown as written: moby's comment carries it glued to the checksum ('COPY --chown=app:appfile:<hex> in /x '). */
  chownFlag?: string;
  /**
   * --chmod, octal parsed. moby's classic builder refuses the flag ('the --chmod option requires
   * BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with
   * BuildKit enabled'): the executor decides; when given, it applies to every copied entry as BuildKit does.
   */
  chmod?: number;
  /** The step's shell (SHELL; default ['/bin/sh', '-c']): `createdBy` starts with it, as moby's runConfig.Cmd does. */
  shell?: string[];
  /** ADD of a URL reports its download here as moby does ('Downloading' progress, then a '\n' stream line). */
  progress?: ProgressFn;
  /** Where ADD downloads a URL before it is copied (default: the OS temp dir); `release()` removes it. */
  scratchDir?: string;
  signal?: AbortSignal;
}

export interface CopyPlan {
  /** The source checksum Docker prints: 'file:<hex>', 'dir:<hex>', 'multi:<hex>' (a URL's is the bare hex). */
  checksum: string;
  /** The comment moby puts after '#(nop) ' in the cache key's Cmd: 'COPY file:<hex> in /dest ' (dest as written, trailing space; --chown glued before the checksum). */
  comment: string;
  /** The history line: shell + ' #(nop) ' + comment, e.g. '/bin/sh -c #(nop) COPY file:<hex> in /dest '. */
  createdBy: string;
  /**
   * The tar to extract at '/' of the step's container (extractInto(root, '/', tar, { noOverwriteDirNonDir: false })):
   * entries carry their final paths (relative to '/'), owners and modes. `dest` is that container's
   * rootfs: whether the destination exists (as a directory), which directories the copy creates
   * and where symlinks on the way lead are looked up in it, read-only; without it the
   * destination is taken as missing. Lookup errors reject here; read errors later fail the stream.
   */
  tar(dest?: RootDir): Promise<Readable>;
  /** Removes what planning left behind (an ADD URL's download); call once the tar is extracted or dropped. */
  release(): Promise<void>;
}

/** The config a build step works on (the image config's `config`) plus the history line it adds. */
export type RunConfig = ImageContainerConfig;

/**
 * The classic builder's layer cache is its intermediate images (one per step, each naming its
 * parent), as in moby; a cache row says which step made which image. `docker system df` lists
 * these as build cache and `docker builder prune` removes them (their layers stay while a kept
 * image uses them). The builder writes the rows; df and prune read them through this.
 */
export interface BuildCacheEntry {
  /** The intermediate image's ID. */
  id: string;
  /** The image the step ran on. */
  parent: string;
  /** The step as Docker's df -v shows it, e.g. '|1 RUN /bin/sh -c make' or 'COPY file:... in /app'. */
  description: string;
  createdAt: string;
  lastUsedAt: string | null;
  usageCount: number;
}

export interface BuildCacheStoreApi {
  entries(): BuildCacheEntry[];
  /** Forget the rows (the images themselves are removed by the caller through rmi). */
  delete(ids: string[]): void;
}
