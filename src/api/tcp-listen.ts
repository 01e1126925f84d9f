// Serving the API on a TCP host (`-H tcp://`, parsed and warned about in engine/system/tcp-hosts.ts).
import { createServer, type Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TcpHost } from '../engine/system/tcp-hosts.js';

/**
 * Serves the app on a TCP port: each connection is handed to the app's own HTTP server (one
 * Fastify instance listens once; its hijacks and upgrades work on any socket it is given).
 */
export async function listenTcp(app: FastifyInstance, h: TcpHost): Promise<Server> {
  const server = createServer((socket) => app.server.emit('connection', socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: h.host, port: h.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
