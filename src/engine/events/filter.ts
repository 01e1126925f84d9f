// /events?filters=: which events a subscriber sees (moby daemon/events/filter.go).
import { InvalidParameterError } from '../../errors.js';
import { labelMatches, type FilterMap } from '../containers/filters.js';
import type { DockerEvent } from './bus.js';

const KEYS = new Set(['type', 'container', 'image', 'event', 'label', 'network', 'volume', 'daemon', 'plugin', 'node', 'service', 'secret', 'config', 'scope']);

export function eventMatcher(filters: FilterMap): (ev: DockerEvent) => boolean {
  for (const k of filters.keys()) if (!KEYS.has(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
  const f = (k: string) => filters.get(k) ?? [];
  const anyOf = (k: string, ...values: (string | undefined)[]) => f(k).length === 0 || f(k).some((v) => values.includes(v));
  return (ev) => {
    const attrs = ev.Actor.Attributes;
    if (!anyOf('type', ev.Type)) return false;
    // "exec_start: sh" matches the filter "exec_start".
    if (f('event').length && !f('event').some((v) => ev.Action === v || ev.Action.startsWith(`${v}:`))) return false;
    if (ev.Type === 'container' || f('container').length) {
      if (f('container').length && (ev.Type !== 'container' || !f('container').some((v) => ev.Actor.ID.startsWith(v) || attrs.name === v))) return false;
    }
    if (f('image').length) {
      const image = ev.Type === 'image' ? [ev.Actor.ID, attrs.name] : [attrs.image];
      if (!f('image').some((v) => image.some((i) => i !== undefined && (i === v || i.startsWith(`${v}:`) || i.split('@')[0] === v)))) return false;
    }
    if (f('label').length && !f('label').every((l) => labelMatches(attrs, l))) return false;
    if (f('network').length && (ev.Type !== 'network' || !f('network').some((v) => ev.Actor.ID.startsWith(v) || attrs.name === v))) return false;
    if (f('volume').length && (ev.Type !== 'volume' || !f('volume').includes(ev.Actor.ID))) return false;
    if (f('daemon').length && ev.Type !== 'daemon') return false;
    if (!anyOf('scope', 'local')) return false;
    return true;
  };
}
