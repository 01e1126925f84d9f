// The `filters` query parameter, with the semantics of moby's api/types/filters.Args:
// values OR'ed within a key, keys AND'ed; both the map-of-bool and the legacy map-of-list JSON forms.
import { InvalidParameterError } from '../errors.js';
import { linearRegExp } from '../util/linear-regexp.js';
import { firstValue } from './query.js';

function invalidFilter(key?: string, values?: string[]): InvalidParameterError {
  let msg = 'invalid filter';
  if (key) {
    msg += ` '${key}`;
    if (values !== undefined) msg += `=[${values.join(' ')}]`;
    msg += "'";
  }
  return new InvalidParameterError(msg);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Filters {
  /** key -> value -> the bool the client sent (the legacy list form means true). */
  private readonly fields: Map<string, Map<string, boolean>>;

  constructor(fields?: Map<string, Map<string, boolean>>) {
    this.fields = fields ?? new Map();
  }

  /** Parses the raw query value; '' or absent -> no filters; anything unparsable -> 400 `invalid filter`. */
  static parse(query: unknown): Filters {
    const text = firstValue(query);
    if (text === undefined || text === '') return new Filters();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw invalidFilter();
    }
    if (doc === null) return new Filters();
    if (!isPlainObject(doc)) throw invalidFilter();
    return new Filters(fromMapOfBool(doc) ?? fromMapOfList(doc) ?? throwInvalid());
  }

  static of(entries: Record<string, string[]>): Filters {
    const fields = new Map<string, Map<string, boolean>>();
    for (const [key, values] of Object.entries(entries)) fields.set(key, new Map(values.map((v) => [v, true])));
    return new Filters(fields);
  }

  keys(): string[] {
    return [...this.fields.keys()];
  }

  get size(): number {
    return this.fields.size;
  }

  /** The values given for `key` (empty when absent). */
  get(key: string): string[] {
    return [...(this.fields.get(key)?.keys() ?? [])];
  }

  has(key: string): boolean {
    return this.fields.has(key);
  }

  /** 400 `invalid filter 'x'` for the first key not in `allowed`. */
  validate(allowed: Iterable<string>): void {
    const accepted = new Set(allowed);
    for (const key of this.fields.keys()) if (!accepted.has(key)) throw invalidFilter(key);
  }

  /**
   * True when every value at `key` (`k` or `k=v`) is present in `labels`, or when there is no value at key.
   * The negated key `<key>!` (CLI `--filter label!=k[=v]`) is honoured by matchLabels().
   */
  matchKVList(key: string, labels: Record<string, string> | undefined): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    if (!labels || Object.keys(labels).length === 0) return false;
    for (const value of values.keys()) {
      const eq = value.indexOf('=');
      const k = eq < 0 ? value : value.slice(0, eq);
      if (!Object.prototype.hasOwnProperty.call(labels, k)) return false;
      if (eq >= 0 && labels[k] !== value.slice(eq + 1)) return false;
    }
    return true;
  }

  /** `label` filters must all match and, when `label!` is present, its set must not (moby's prune matchLabels). */
  matchLabels(labels: Record<string, string> | undefined, key = 'label'): boolean {
    if (!this.matchKVList(key, labels)) return false;
    if (this.has(`${key}!`) && this.matchKVList(`${key}!`, labels)) return false;
    return true;
  }

  /** True when there is no filter at key, or `source` is one of its values (sent as true). */
  exactMatch(key: string, source: string): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    return values.get(source) === true;
  }

  /** True when there is no filter at key, or exactly one value equal to `source`. */
  uniqueExactMatch(key: string, source: string): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    if (values.size !== 1) return false;
    return values.get(source) === true;
  }

  /** exactMatch, or `source` starts with one of the values (ID prefixes). */
  fuzzyMatch(key: string, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    for (const prefix of this.fields.get(key)?.keys() ?? []) if (source.startsWith(prefix)) return true;
    return false;
  }

  /**
   * exactMatch, or `source` matches one of the values as a regular expression (the `name` filter),
   * in linear time like Go's RE2; a value that does not compile is skipped, as moby's Args.Match does.
   */
  match(key: string, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    for (const pattern of this.fields.get(key)?.keys() ?? []) {
      if (linearRegExp(pattern)?.test(source)) return true;
    }
    return false;
  }

  /** A boolean filter such as `dangling=true`; 400 for values that are not 0/1/true/false or conflict. */
  boolOrDefault(key: string, defaultValue: boolean): boolean {
    const values = this.fields.get(key);
    if (!values) return defaultValue;
    if (values.size === 0) throw invalidFilter(key);
    const isFalse = values.get('0') === true || values.get('false') === true;
    const isTrue = values.get('1') === true || values.get('true') === true;
    if (isFalse === isTrue) throw invalidFilter(key, this.get(key));
    return isTrue;
  }

  /** key -> its values, for code that takes plain maps (container, network and event filters). */
  toMap(): Map<string, string[]> {
    return new Map(this.keys().map((k) => [k, this.get(k)]));
  }

  toJSON(): Record<string, Record<string, boolean>> {
    const out: Record<string, Record<string, boolean>> = {};
    for (const [key, values] of this.fields) out[key] = Object.fromEntries(values);
    return out;
  }
}

function throwInvalid(): never {
  throw invalidFilter();
}

/** `{"status":{"running":true}}`; null members count as present with no values (like Go's nil map). */
function fromMapOfBool(doc: Record<string, unknown>): Map<string, Map<string, boolean>> | undefined {
  const fields = new Map<string, Map<string, boolean>>();
  for (const [key, value] of Object.entries(doc)) {
    if (value === null) {
      fields.set(key, new Map());
      continue;
    }
    if (!isPlainObject(value)) return undefined;
    const set = new Map<string, boolean>();
    for (const [v, flag] of Object.entries(value)) {
      if (flag === null) continue;
      if (typeof flag !== 'boolean') return undefined;
      set.set(v, flag);
    }
    fields.set(key, set);
  }
  return fields;
}

/** The legacy `{"status":["running"]}` form (docker-py, dockerode users). */
function fromMapOfList(doc: Record<string, unknown>): Map<string, Map<string, boolean>> | undefined {
  const fields = new Map<string, Map<string, boolean>>();
  for (const [key, value] of Object.entries(doc)) {
    if (value === null) {
      fields.set(key, new Map());
      continue;
    }
    if (!Array.isArray(value)) return undefined;
    const set = new Map<string, boolean>();
    for (const v of value) {
      if (v === null) continue;
      if (typeof v !== 'string') return undefined;
      set.set(v, true);
    }
    fields.set(key, set);
  }
  return fields;
}
