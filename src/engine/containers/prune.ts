// POST /containers/prune (moby daemon/prune.go ContainersPrune): remove every container that is
// not running, filtered by `until` and `label`/`label!`; report IDs and the bytes their
// writable layers held.
import { join } from 'node:path';
import { InvalidParameterError, NotFoundError, errorMessage } from '../../errors.js';
import { dirSize } from '../../images/layers/dir-size.js';
import type { ContainerRecord } from './model.js';
import { isRunning, type ContainerService } from './service.js';
import { faultPoint } from '../../util/fault-point.js';

export interface PruneReport {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** moby's timetypes.GetTimestamp as a Date: a Go duration before now, unix seconds, or an RFC 3339 date. */
export function parseUntil(value: string, now = Date.now()): Date {
  const durationRe = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
  if (durationRe.test(value)) {
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    return new Date(now - ms);
  }
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const t = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(t)) return new Date(t);
  throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
}

/** `label=k`, `label=k=v` must all match; `label!=...` must all not match (moby's MatchKVList). */
export function matchesLabels(labels: Record<string, string>, want: string[], notWant: string[]): boolean {
  const has = (expr: string) => {
    const eq = expr.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, expr);
    const k = expr.slice(0, eq);
    return Object.hasOwn(labels, k) && labels[k] === expr.slice(eq + 1);
  };
  return want.every(has) && !notWant.some(has);
}

export async function pruneContainers(svc: ContainerService, filters: Map<string, string[]>): Promise<PruneReport> {
  for (const key of filters.keys()) {
    if (!['until', 'label', 'label!'].includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  const untils = filters.get('until') ?? [];
  if (untils.length > 1) throw new InvalidParameterError('more than one until filter specified');
  const until = untils[0] ? parseUntil(untils[0]) : undefined;
  const want = filters.get('label') ?? [];
  const notWant = filters.get('label!') ?? [];
  const report: PruneReport = { ContainersDeleted: null, SpaceReclaimed: 0 };
  const candidates = svc.list().filter(
    (c: ContainerRecord) =>
      !isRunning(c) &&
      c.state.Status !== 'removing' &&
      (!until || Date.parse(c.created) < until.getTime()) &&
      matchesLabels(c.config.Labels ?? {}, want, notWant),
  );
  for (const c of candidates) {
    const size = await dirSize(join(svc.deps.dataRoot, 'snapshots', 'containers', c.id, 'upper'));
    try {
      await svc.remove(c.id, { force: false, volumes: false });
    } catch (err) {
      if (!(err instanceof NotFoundError)) svc.deps.logger.warn({ id: c.id, err: errorMessage(err) }, 'prune: cannot remove container');
      continue;
    }
    (report.ContainersDeleted ??= []).push(c.id);
    faultPoint('prune.after-container');
    report.SpaceReclaimed += size;
  }
  svc.deps.events.emit('container', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
  return report;
}
