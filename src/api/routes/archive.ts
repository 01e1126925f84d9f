// /containers/{id}/archive: `docker cp` (HEAD: stat, GET: a tar out, PUT: a tar in).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContainerPathStat } from '../../engine/archive/container-archive.js';
import { rawBody, rawBodyRoute } from '../body.js';
import type { ApiContext } from '../context.js';
import { boolParam } from '../query.js';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
const statHeader = (stat: ContainerPathStat) => Buffer.from(JSON.stringify(stat)).toString('base64');

export function archiveRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const archive = ctx.engine.archive;

  app.head('/containers/:id/archive', async (request: Req, reply) => {
    const stat = await archive.stat(request.params.id, request.query.path ?? '');
    reply.header(STAT_HEADER, statHeader(stat)).code(200).send();
  });

  // exposeHeadRoute: false, the HEAD above is its own route (a stat, not a tar)
  app.get('/containers/:id/archive', { exposeHeadRoute: false }, async (request: Req, reply) => {
    const { stat, tar } = await archive.get(request.params.id, request.query.path ?? '');
    reply.raw.once('close', () => tar.destroy());
    return reply.header(STAT_HEADER, statHeader(stat)).type('application/x-tar').send(tar);
  });

  app.put('/containers/:id/archive', rawBodyRoute, async (request: Req, reply) => {
    await archive.put(request.params.id, request.query.path ?? '', rawBody(request), {
      noOverwriteDirNonDir: boolParam(request.query.noOverwriteDirNonDir, false),
      copyUIDGID: boolParam(request.query.copyUIDGID, false),
    });
    reply.code(200).send();
  });
}
