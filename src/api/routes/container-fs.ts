// A container's filesystem as a whole: GET /containers/{id}/changes (docker diff),
// GET /containers/{id}/export, POST /commit.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { containerChanges } from '../../engine/archive/changes.js';
import { exportContainer } from '../../engine/archive/export.js';
import { commitContainer } from '../../engine/archive/commit.js';
import type { ImageContainerConfig } from '../../images/types.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { boolParam } from '../query.js';

type Q = Record<string, string | string[] | undefined>;
type IdReq = FastifyRequest<{ Params: { id: string }; Querystring: Q }>;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.at(-1) : v);

export function containerFsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const containers = ctx.engine.containers;

  app.get('/containers/:id/changes', async (request: IdReq) => containerChanges(containers, request.params.id));

  app.get('/containers/:id/export', async (request: IdReq, reply) => {
    const tar = await exportContainer(containers, request.params.id);
    reply.raw.once('close', () => tar.destroy());
    return reply.type('application/x-tar').send(tar);
  });

  app.post('/commit', async (request: FastifyRequest<{ Querystring: Q; Body: unknown }>, reply) => {
    const q = request.query;
    const container = one(q.container);
    if (!container) throw new InvalidParameterError('No container name or ID supplied');
    const body = request.body;
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
      throw new InvalidParameterError('json: cannot unmarshal into Go value of type container.Config');
    }
    const changes = Array.isArray(q.changes) ? q.changes : q.changes ? [q.changes] : [];
    const result = await commitContainer(containers, {
      container,
      repo: one(q.repo) || undefined,
      tag: one(q.tag) || undefined,
      comment: one(q.comment),
      author: one(q.author),
      pause: boolParam(one(q.pause), true),
      changes,
      config: (body ?? {}) as ImageContainerConfig,
    });
    reply.code(201);
    return result;
  });
}
