// GET /events: past events since `since`, then live ones until `until` (or the client leaves); see event-stream.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eventMatcher } from '../../engine/events/filter.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { streamEvents } from '../event-stream.js';
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
    const match = eventMatcher(filters.toMap());
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    let dropped = 0;
    await streamEvents(res, ctx.engine.events, {
      since,
      until,
      match,
      onDrop: () => {
        if (dropped++ === 0) request.log.warn('events client is not reading: dropping its events');
      },
    });
  });
}
