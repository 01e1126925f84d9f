// Build arguments as moby's builder/dockerfile/buildargs.go keeps them: the values the client
// sent (--build-arg), the ARGs declared before the first FROM (meta args, for FROM lines and as
// defaults), the ARGs a stage declared (only those expand and reach RUN), and the proxy
// variables every build accepts without a declaration but leaves out of history.

export const BUILTIN_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

export class BuildArgs {
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  /** `options`: the request's buildargs; null is an arg named without a value (and unset on the client). */
  constructor(private readonly options: Readonly<Record<string, string | null>> = {}) {}

  /** A stage's copy: meta args and references carried over, declared args reset. */
  forStage(): BuildArgs {
    const b = new BuildArgs(this.options);
    for (const [k, v] of this.meta) b.meta.set(k, v);
    for (const k of this.referenced) b.referenced.add(k);
    return b;
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  /** Declared (or builtin) args with a value: what expands words and reaches RUN. */
  allAllowed(): Map<string, string> {
    return this.fromMapping(this.allowed);
  }

  /** Meta args with a value: what expands FROM lines. */
  allMeta(): Map<string, string> {
    return this.fromMapping(this.meta);
  }

  /** `K=V` for each allowed arg that `env` (a config's Env) does not already set, sorted. */
  filterAllowed(env: readonly string[]): string[] {
    const set = new Set(env.map((e) => e.split('=', 1)[0]));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!set.has(k)) out.push(`${k}=${v}`);
    return out.sort();
  }

  /** A proxy arg that no ARG declared stays out of history and cache keys. */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  /** moby's warning after the build, or undefined when every --build-arg was used. */
  unusedWarning(): string | undefined {
    const left = Object.keys(this.options)
      .filter((k) => !this.referenced.has(k) && !BUILTIN_ARGS.has(k))
      .sort();
    return left.length ? `[Warning] One or more build-args [${left.join(' ')}] were not consumed\n` : undefined;
  }

  private fromMapping(source: Map<string, string | undefined>): Map<string, string> {
    const m = new Map<string, string>();
    for (const key of new Set([...source.keys(), ...BUILTIN_ARGS])) {
      const v = this.value(key, source);
      if (v !== undefined) m.set(key, v);
    }
    return m;
  }

  // The client's value wins; an ARG without a default falls back to the meta arg's value.
  private value(key: string, source: Map<string, string | undefined>): string | undefined {
    const opt = this.options[key];
    if (Object.prototype.hasOwnProperty.call(this.options, key) && opt !== null && opt !== undefined) return opt;
    const def = source.get(key);
    if (def === undefined) {
      const meta = this.meta.get(key);
      return meta ?? undefined;
    }
    return def;
  }
}
