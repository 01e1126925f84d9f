// GET /events: past events since `since`, then live ones until `until` (or the client leaves).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eventMatcher } from '../../engine/event-filter.js';
import type { DockerEvent } from '../../engine/events.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';

type Q = Record<string, string | undefined>;

/** `<seconds>[.<nanos>]` (the CLI converts durations and dates client-side) to unix nanoseconds. */
function eventTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) {
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw new InvalidParameterError(`invalid value for ${name}: ${value}`);
    return t * 1e6;
  }
  return Number(m[1]) * 1e9 + Number((m[2] ?? '0').padEnd(9, '0'));
}

export function eventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/events', async (request: FastifyRequest<{ Querystring: Q }>, reply) => {
    const q = request.query;
    const since = eventTime(q.since, 'since');
    const until = eventTime(q.until, 'until');
    const filters = Filters.parse(q.filters);
    const match = eventMatcher(new Map(filters.keys().map((k) => [k, filters.get(k)])));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const inRange = (ev: DockerEvent) => (since === undefined || ev.timeNano >= since) && (until === undefined || ev.timeNano <= until);
    const send = (ev: DockerEvent) => {
      if (match(ev) && inRange(ev)) res.write(`${JSON.stringify(ev)}\n`);
    };
    if (since !== undefined) for (const ev of ctx.engine.events.past()) send(ev);
    const nowNs = Date.now() * 1e6;
    if (until !== undefined && until <= nowNs) {
      res.end();
      return;
    }
    const unsubscribe = ctx.engine.events.subscribe(send);
    const timer = until !== undefined ? setTimeout(() => res.end(), (until - nowNs) / 1e6) : undefined;
    res.once('close', () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    });
    res.once('finish', () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    });
  });
}
