// /containers/{id}/{restart,pause,unpause,rename,update,top} and /containers/prune.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pauseContainer, unpauseContainer } from '../../engine/lifecycle/pause.js';
import { renameContainer } from '../../engine/lifecycle/rename.js';
import { restartContainer } from '../../engine/lifecycle/restart.js';
import { updateContainer } from '../../engine/lifecycle/update.js';
import { pruneContainers } from '../../engine/containers/prune.js';
import { topContainer } from '../../engine/monitoring/top.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import { intParam } from '../query.js';

type Q = Record<string, string | undefined>;
type IdReq = FastifyRequest<{ Params: { id: string }; Querystring: Q; Body: unknown }>;

export function containerLifecycleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const containers = ctx.engine.containers;

  app.post('/containers/:id/restart', async (request: IdReq, reply) => {
    const t = intParam(request.query.t, 't');
    await restartContainer(containers, request.params.id, { timeout: t, signal: request.query.signal || undefined });
    reply.code(204).send();
  });

  app.post('/containers/:id/pause', async (request: IdReq, reply) => {
    await pauseContainer(containers, request.params.id);
    reply.code(204).send();
  });

  app.post('/containers/:id/unpause', async (request: IdReq, reply) => {
    await unpauseContainer(containers, request.params.id);
    reply.code(204).send();
  });

  app.post('/containers/:id/rename', async (request: IdReq, reply) => {
    await renameContainer(containers, request.params.id, request.query.name ?? '');
    reply.code(204).send();
  });

  app.post('/containers/:id/update', async (request: IdReq) => {
    return updateContainer(containers, request.params.id, request.body ?? {});
  });

  app.get('/containers/:id/top', async (request: IdReq) => {
    return topContainer(containers, request.params.id, request.query.ps_args);
  });

  app.post('/containers/prune', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const filters = Filters.parse(request.query.filters);
    filters.validate(['until', 'label', 'label!']);
    return pruneContainers(containers, filters.toMap());
  });
}
