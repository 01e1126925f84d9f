// GET /containers/{id}/stats: one StatsJSON object per line, flushed as each is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { containerStats } from '../../engine/monitoring/stats.js';
import type { ApiContext } from '../context.js';
import { boolParam } from '../query.js';

type Q = Record<string, string | undefined>;

export function statsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/containers/:id/stats', async (request: FastifyRequest<{ Params: { id: string }; Querystring: Q }>, reply) => {
    const stream = boolParam(request.query.stream, true);
    const oneShot = boolParam(request.query['one-shot'], false);
    const ac = new AbortController();
    // Throws (404) before any header is sent.
    const objects = containerStats(ctx.engine.containers, request.params.id, { stream, oneShot, signal: ac.signal });
    reply.hijack();
    const res = reply.raw;
    res.once('close', () => ac.abort());
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    try {
      for await (const s of objects) {
        if (ac.signal.aborted) break;
        res.write(`${JSON.stringify(s)}\n`);
      }
    } catch (err) {
      ctx.logger.warn({ err, id: request.params.id }, 'stats stream failed');
    } finally {
      res.end();
    }
  });
}
