// /_ping, /version, /info.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiContext } from '../context.js';

function pingHeaders(reply: FastifyReply): void {
  // Builder-Version 1: berth has the classic builder, not BuildKit.
  reply.header('Builder-Version', '1');
  reply.header('Swarm', 'inactive');
  reply.header('Cache-Control', 'no-cache, no-store, must-revalidate');
  reply.header('Pragma', 'no-cache');
}

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // HEAD before GET: Fastify would otherwise add its own HEAD twin of the GET route.
  app.head('/_ping', async (_request, reply) => {
    pingHeaders(reply);
    reply.type('text/plain; charset=utf-8').header('Content-Length', '0').send();
  });
  app.get('/_ping', async (_request, reply) => {
    pingHeaders(reply);
    reply.type('text/plain; charset=utf-8').send('OK');
  });
  app.get('/version', async () => ctx.engine.version());
  app.get('/info', async () => ctx.engine.info());
}
