// /networks/*: docker network ls, inspect, create, rm, prune, connect, disconnect.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../errors.js';
import { NetworkApi } from '../../engine/networks/api.js';
import type { Engine } from '../../engine/engine.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import { firstValue } from '../query.js';
import { parseGoBool } from '../../engine/go-json.js';

type Q = Record<string, string | undefined>;
type IdReq = FastifyRequest<{ Params: { id: string }; Querystring: Q; Body: unknown }>;

function filterMap(raw: unknown): Map<string, string[]> {
  return Filters.parse(raw).toMap();
}

/** Go's strconv.ParseBool, as moby parses `verbose`. */
function parseBool(name: string, raw: unknown): boolean {
  const v = firstValue(raw);
  if (v === undefined || v === '') return false;
  const b = parseGoBool(v);
  if (b !== undefined) return b;
  throw new InvalidParameterError(`invalid value for ${name}: ${v}: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

const apis = new WeakMap<Engine, NetworkApi>();

/** The network verbs over the engine's network service (made on first use, not at registration). */
export function networkApi(ctx: ApiContext): NetworkApi {
  let api = apis.get(ctx.engine);
  if (!api) {
    const engine = ctx.engine;
    api = new NetworkApi({
      backend: engine.networks,
      containers: engine.containers,
      events: engine.events,
      warn: (msg, fields) => ctx.logger.warn(fields, msg),
    });
    apis.set(engine, api);
  }
  return api;
}

export function networkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = (): NetworkApi => networkApi(ctx);

  app.get('/networks', async (request: FastifyRequest<{ Querystring: Q }>) => api().list(filterMap(request.query.filters)));

  app.get('/networks/:id', async (request: IdReq) => {
    parseBool('verbose', request.query.verbose);
    return api().inspect(request.params.id, firstValue(request.query.scope) ?? '');
  });

  app.post('/networks/create', async (request: IdReq, reply) => {
    const created = await api().create(request.body);
    reply.code(201);
    return created;
  });

  app.delete('/networks/:id', async (request: IdReq, reply) => {
    await api().remove(request.params.id);
    reply.code(204).send();
  });

  app.post('/networks/prune', async (request: IdReq) => api().prune(filterMap(request.query.filters)));

  app.post('/networks/:id/connect', async (request: IdReq, reply) => {
    await api().connect(request.params.id, request.body);
    reply.code(200).send();
  });

  app.post('/networks/:id/disconnect', async (request: IdReq, reply) => {
    await api().disconnect(request.params.id, request.body);
    reply.code(200).send();
  });
}
