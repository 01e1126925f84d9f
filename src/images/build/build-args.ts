// Build arguments as moby's builder/dockerfile/buildargs.go keeps them: --build-arg values from
// the request, the ARGs the current stage declared (with defaults), the ARGs before the first
// FROM, and the predefined proxy args that are usable without an ARG but kept out of the cache
// key (and of `docker history`) unless declared.
export const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class BuildArgs {
  /** ARGs declared in the current stage -> default (undefined = none). */
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  constructor(private readonly fromOptions: ReadonlyMap<string, string | null>) {}

  /** A new stage: only the meta args and the request's values carry over. */
  resetAllowed(): void {
    this.allowed = new Map();
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  private value(key: string, mapping: Map<string, string | undefined>): string | undefined {
    const opt = this.fromOptions.get(key);
    if (opt !== undefined && opt !== null) return opt;
    const def = mapping.get(key);
    if (def === undefined) {
      const m = this.meta.get(key);
      return m !== undefined ? m : undefined;
    }
    return def;
  }

  private allFrom(mapping: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of new Set([...mapping.keys(), ...BUILTIN_ARGS])) {
      const v = this.value(key, mapping);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  /** The meta args' values (what FROM lines and meta ARGs expand with). */
  allMeta(): Map<string, string> {
    return this.allFrom(this.meta);
  }

  /** `KEY=value` for every usable arg not shadowed by an ENV of `env` (moby's FilterAllowed). */
  filterAllowed(env: readonly string[]): string[] {
    const keys = new Set(env.map((e) => e.split('=')[0]));
    const out: string[] = [];
    for (const [k, v] of this.allFrom(this.allowed)) if (!keys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  /** --build-arg names nothing used, for moby's warning. */
  unused(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !this.referenced.has(k) && !BUILTIN_ARGS.has(k)).sort();
  }

  markReferenced(keys: Iterable<string>): void {
    for (const k of keys) this.referenced.add(k);
  }
}

/** moby's prependEnvOnCmd: RUN's cache key and history carry the build args it ran with. */
export function prependEnvOnCmd(args: BuildArgs, buildEnv: string[], cmd: string[]): string[] {
  const shown = buildEnv.filter((e) => args.isReferencedOrNotBuiltin(e.split('=')[0])).sort();
  return [`|${shown.length}`, ...shown, ...cmd];
}
