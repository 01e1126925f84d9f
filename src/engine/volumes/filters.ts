// `filters=` for GET /volumes and POST /volumes/prune (moby volume/service convert.go).
import { InvalidParameterError } from '../../errors.js';
import { ANONYMOUS_LABEL, type VolumeRecord } from './model.js';
import { parseGoBool } from '../go-json.js';

/** The subset of src/api/filters.ts's Filters the volume filters use. */
export interface VolumeFilters {
  keys(): string[];
  get(key: string): string[];
  has(key: string): boolean;
  validate(allowed: Iterable<string>): void;
  match(key: string, source: string): boolean;
  matchLabels(labels: Record<string, string> | undefined, key?: string): boolean;
  boolOrDefault(key: string, defaultValue: boolean): boolean;
}

/** GET /volumes: dangling, name (a regexp, as moby's Match), driver, label. */
export function filterVolumes(all: VolumeRecord[], f: VolumeFilters, refCount: (name: string) => number): VolumeRecord[] {
  f.validate(['dangling', 'name', 'driver', 'label']);
  const drivers = f.get('driver');
  const dangling = f.has('dangling') ? f.boolOrDefault('dangling', false) : undefined;
  return all
    .filter((v) => {
      if (drivers.length && !drivers.includes(v.driver)) return false;
      if (f.has('name') && !f.match('name', v.name)) return false;
      if (!f.matchLabels(v.labels ?? {})) return false;
      if (dangling !== undefined && (refCount(v.name) === 0) !== dangling) return false;
      return true;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * POST /volumes/prune's candidates before the in-use check: local volumes without driver
 * options (their data is not here) matching the label filters; anonymous ones only unless
 * `all=true` (API >= 1.42; the route adds all=true for older clients).
 */
export function pruneCandidates(all: VolumeRecord[], f: VolumeFilters): VolumeRecord[] {
  f.validate(['label', 'label!', 'all']);
  const allValues = f.get('all');
  if (allValues.length > 1) throw new InvalidParameterError(`invalid filter 'all=${allValues.join(' ')}': only one value is expected`);
  let everything = false;
  if (allValues.length === 1) {
    const b = parseGoBool(allValues[0]);
    if (b === undefined) throw new InvalidParameterError(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(allValues[0])}: invalid syntax`);
    everything = b;
  }
  return all.filter((v) => {
    if (v.driver !== 'local') return false;
    if (v.options && Object.keys(v.options).length > 0) return false;
    const labels = v.labels ?? {};
    if (!everything && !Object.prototype.hasOwnProperty.call(labels, ANONYMOUS_LABEL)) return false;
    return f.matchLabels(labels);
  });
}
