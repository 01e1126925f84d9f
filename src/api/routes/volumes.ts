// /volumes: the volume routes of the Docker Engine API (moby api/server/router/volume).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseVolumeCreate } from '../../engine/volumes/create-request.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import { boolParam } from '../query.js';
import { apiVersionAtLeast } from '../versioning.js';

type Q = Record<string, string | undefined>;
type NameReq = FastifyRequest<{ Params: { name: string }; Querystring: Q }>;

export function volumeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const volumes = ctx.engine.volumes;

  app.get('/volumes', async (request: FastifyRequest<{ Querystring: Q }>) => volumes.list(Filters.parse(request.query.filters)));

  app.post('/volumes/create', async (request: FastifyRequest<{ Body: unknown }>, reply) => {
    const v = await volumes.create(parseVolumeCreate(request.body));
    reply.code(201);
    return volumes.inspect(v.name);
  });

  app.post('/volumes/prune', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const filters = Filters.parse(request.query.filters);
    // before API 1.42 prune took every unused volume, named ones too
    const effective = apiVersionAtLeast(request, '1.42') ? filters : Filters.of({ ...Object.fromEntries(filters.toMap()), all: ['true'] });
    return volumes.prune(effective);
  });

  app.get('/volumes/:name', async (request: NameReq) => volumes.inspect(request.params.name));

  app.delete('/volumes/:name', async (request: NameReq, reply) => {
    await volumes.remove(request.params.name, boolParam(request.query.force, false));
    reply.code(204).send();
  });
}
