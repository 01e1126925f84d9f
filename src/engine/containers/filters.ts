// GET /containers/json?filters=: which records pass (moby daemon/list.go).
import { InvalidParameterError } from '../../errors.js';
import { linearRegExp } from '../../util/linear-regexp.js';
import { parsePortFilter, portFiltersMatch, type ListedPort } from '../networks/ports/index.js';
import type { ContainerRecord } from './model.js';
import { containerMountPoints } from '../volumes/view.js';

/** Parsed filters: key -> accepted values (OR within a key, AND across keys). */
export type FilterMap = Map<string, string[]>;

const KEYS = new Set(['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since', 'health', 'isolation', 'network', 'volume', 'publish', 'expose', 'is-task']);
/** What f() answers for a filter not given: one array (never changed), not one per container and key. */
const NONE: string[] = [];
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export interface ListOptions {
  all: boolean;
  limit: number;
  filters: FilterMap;
  /** The records come newest first already (ListCache.newestFirst): not sorted again. */
  sorted?: boolean;
  /** Resolves an image reference to its ID, or undefined when unknown. */
  imageId(ref: string): string | undefined;
  /** Resolves a container reference (for before/since). */
  container(ref: string): ContainerRecord;
  /** The list's Ports of a container (for `publish` and `expose`, which match what ps shows). */
  ports?(c: ContainerRecord): ListedPort[];
  /** The networks a container is on, by name and ID (the `network` filter). */
  networksOf?(c: ContainerRecord): { name: string; id: string }[];
}

export function labelMatches(labels: Record<string, string>, wanted: string): boolean {
  const neq = wanted.indexOf('!=');
  if (neq > 0) {
    const k = wanted.slice(0, neq);
    return labels[k] !== wanted.slice(neq + 2);
  }
  const eq = wanted.indexOf('=');
  if (eq < 0) return Object.prototype.hasOwnProperty.call(labels, wanted);
  return labels[wanted.slice(0, eq)] === wanted.slice(eq + 1);
}

export function filterContainers(all: ContainerRecord[], o: ListOptions): ContainerRecord[] {
  for (const key of o.filters.keys()) if (!KEYS.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  const f = (k: string) => o.filters.get(k) ?? NONE;
  for (const s of f('status')) if (!STATUSES.has(s)) throw new InvalidParameterError(`invalid filter 'status=${s}'`);
  const exited = f('exited').map((e) => {
    if (!/^-?\d+$/.test(e)) throw new InvalidParameterError(`invalid filter 'exited=${e}'`);
    return Number(e);
  });
  const nameMatchers = f('name').map(nameMatcher);
  const ancestors = f('ancestor').map((a) => o.imageId(a) ?? `unknown:${a}`);
  const before = f('before').map((r) => Date.parse(o.container(r).created));
  const since = f('since').map((r) => Date.parse(o.container(r).created));
  const publish = parsePortFilter('publish', f('publish'));
  const expose = parsePortFilter('expose', f('expose'));
  const sorted = o.sorted ? all : newestFirst(all);
  const out: ContainerRecord[] = [];
  const showAll = o.all || f('status').length > 0 || exited.length > 0 || o.limit > 0 || before.length > 0 || since.length > 0;
  for (const c of sorted) {
    if (!showAll && c.state.Status !== 'running' && c.state.Status !== 'paused' && c.state.Status !== 'restarting') continue;
    if (f('id').length && !f('id').some((v) => c.id.startsWith(v))) continue;
    if (nameMatchers.length && !nameMatchers.some((m) => m(c.name))) continue;
    if (f('status').length && !f('status').includes(c.state.Status)) continue;
    if (f('label').length && !f('label').every((l) => labelMatches(c.config.Labels ?? {}, l))) continue;
    if (ancestors.length && !ancestors.includes(c.imageId)) continue;
    if (exited.length && (c.state.Status !== 'exited' || !exited.includes(c.state.ExitCode))) continue;
    if (before.length && !before.every((t) => createdMs(c) < t)) continue;
    if (since.length && !since.every((t) => createdMs(c) > t)) continue;
    if (f('health').length && !f('health').includes(c.state.Health?.Status ?? 'none')) continue;
    if ((publish.size || expose.size) && !portFiltersMatch(o.ports?.(c) ?? [], publish, expose)) continue;
    // moby: the network's name as the container's Networks key, or a prefix of its NetworkID.
    if (f('network').length) {
      const nets = o.networksOf?.(c) ?? [];
      if (!f('network').some((v) => nets.some((n) => n.name === v || n.id.startsWith(v)))) continue;
    }
    if (f('volume').length && !f('volume').some((v) => usesVolume(c, v))) continue;
    out.push(c);
    if (o.limit > 0 && out.length >= o.limit) break;
  }
  return out;
}

/** Newest first, as docker ps lists them (ties by ID, for a stable order). */
export function newestFirst(all: readonly ContainerRecord[]): ContainerRecord[] {
  return all
    .map((c) => ({ c, created: createdMs(c) }))
    .sort((a, b) => b.created - a.created || (a.c.id < b.c.id ? 1 : -1))
    .map((x) => x.c);
}

/** A record's creation time never changes: parsed once per record, not in every list of thousands. */
const createdTimes = new WeakMap<ContainerRecord, number>();

function createdMs(c: ContainerRecord): number {
  let t = createdTimes.get(c);
  if (t === undefined) createdTimes.set(c, (t = Date.parse(c.created)));
  return t;
}

/**
 * A `name` filter: a regular expression matched in linear time, as Go's RE2 does (a backtracking
 * one froze the daemon), against the name with and without its '/' as moby does; a pattern that
 * is not one is a substring of the name.
 */
function nameMatcher(v: string): (name: string) => boolean {
  const re = linearRegExp(v);
  return (name) => (re !== undefined && (re.test(name) || re.test(name.slice(1)))) || name.slice(1).includes(v);
}

/** moby's `volume` filter: a mount's volume name (or a bind's source) or its destination. */
function usesVolume(c: ContainerRecord, v: string): boolean {
  return containerMountPoints(c).some((m) => (m.Name || m.Source) === v || m.Destination === v);
}
