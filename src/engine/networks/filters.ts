// GET /networks?filters= and POST /networks/prune?filters=: which networks pass (moby's
// daemon/network/filter.go).
import { InvalidParameterError } from '../../errors.js';
import { linearRegExp } from '../../util/linear-regexp.js';
import { parseUntil } from '../containers/prune.js';
import type { NetworkRecord } from './model.js';
import { isPredefined } from './views.js';

/** key -> values, OR within a key and AND across keys. */
export type FilterMap = Map<string, string[]>;

const LIST_KEYS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_KEYS = new Set(['label', 'label!', 'until']);

export interface NetworkFilter {
  (n: NetworkRecord, inUse: boolean): boolean;
}

/** The list filter; 400 with moby's texts for unknown keys and bad values. */
export function listFilter(filters: FilterMap): NetworkFilter {
  checkKeys(filters, LIST_KEYS);
  return build(filters);
}

/** The prune filter: user-defined networks no container uses, matching label/label!/until. */
export function pruneFilter(filters: FilterMap): NetworkFilter {
  checkKeys(filters, PRUNE_KEYS);
  const f = build(filters);
  return (n, inUse) => !isPredefined(n.name) && !inUse && f(n, inUse);
}

function checkKeys(filters: FilterMap, allowed: Set<string>): void {
  for (const key of filters.keys()) if (!allowed.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
}

function build(filters: FilterMap): NetworkFilter {
  const get = (k: string) => filters.get(k) ?? [];
  const has = (k: string) => filters.has(k) && get(k).length > 0;

  let dangling: boolean | undefined;
  const danglingValues = get('dangling');
  if (danglingValues.length > 1) throw new InvalidParameterError('got more than one value for filter key "dangling"');
  if (danglingValues.length === 1) {
    const v = danglingValues[0]!;
    if (v === '1' || v === 'true') dangling = true;
    else if (v === '0' || v === 'false') dangling = false;
    else throw new InvalidParameterError(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
  }
  for (const t of get('type')) if (t !== 'builtin' && t !== 'custom') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);

  const untils = get('until');
  if (untils.length > 1) throw new InvalidParameterError('more than one until filter specified');
  const until = untils.length ? parseUntil(untils[0]!).getTime() : undefined;

  const names = matcher(get('name'));
  const ids = matcher(get('id'));
  const labels = get('label');
  const notLabels = get('label!');

  return (n, inUse) => {
    if (has('driver') && !get('driver').includes(n.driver)) return false;
    if (has('name') && !names(n.name)) return false;
    if (has('id') && !ids(n.id)) return false;
    if (labels.length && !labels.every((l) => hasLabel(n.labels, l))) return false;
    if (notLabels.length && notLabels.every((l) => hasLabel(n.labels, l))) return false;
    if (has('scope') && !get('scope').includes('local')) return false;
    if (dangling !== undefined) {
      // A predefined network is never dangling; a network is in use while a container has an endpoint on it.
      const isDangling = !isPredefined(n.name) && !inUse;
      if (isDangling !== dangling) return false;
    }
    if (has('type') && !get('type').some((t) => (t === 'builtin') === isPredefined(n.name))) return false;
    if (until !== undefined && Date.parse(n.created) > until) return false;
    return true;
  };
}

/**
 * moby's Args.Match: the value itself, or a regular expression found anywhere in it (run in
 * linear time, as Go's RE2; a pattern that does not compile matches nothing).
 */
function matcher(patterns: string[]): (s: string) => boolean {
  const res = patterns.map((p) => ({ p, re: linearRegExp(p) }));
  return (s) => res.some(({ p, re }) => p === s || (re !== undefined && re.test(s)));
}

/** moby's MatchKVList for one value: `k` present, or `k=v` equal. */
function hasLabel(labels: Record<string, string>, expr: string): boolean {
  const eq = expr.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, expr);
  const k = expr.slice(0, eq);
  return Object.hasOwn(labels, k) && labels[k] === expr.slice(eq + 1);
}
