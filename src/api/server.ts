// Assembles the HTTP server: versioned routing, API headers, body parsing, Docker-shaped errors,
// hijacked streams, then the route modules.
import { chmod, chown, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { installBodyParsers } from './body.js';
import type { ApiContext } from './context.js';
import { JSON_CONTENT_TYPE, sendError, sendPageNotFound } from './errors.js';
import { refuseNulBytes } from './nul-bytes.js';
import { HijackRegistry } from './hijack.js';
import { containerRoutes } from './routes/containers.js';
import { attachWsRoutes } from './routes/attach-ws.js';
import { containerLifecycleRoutes } from './routes/container-lifecycle.js';
import { statsRoutes } from './routes/stats.js';
import { eventRoutes } from './routes/events.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { systemRoutes } from './routes/system.js';
import { apiVersionOf, setApiHeaders, stripVersionPrefix, versionError } from './versioning.js';
import { archiveRoutes } from './routes/archive.js';
import { containerFsRoutes } from './routes/container-fs.js';
import { networkRoutes } from './routes/networks.js';
import { volumeRoutes } from './routes/volumes.js';
import { systemDfRoutes } from './routes/system-df.js';
import { authRoutes } from './routes/auth.js';
import { buildRoutes } from './routes/build.js';
import { parseQueryString } from './query-parser.js';
import { answerClientError } from './client-error.js';

/** Create bodies are small JSON; everything big (images, archives, build contexts) is streamed. */
const BODY_LIMIT = 32 * 1024 * 1024;

export interface RouteEntry {
  method: string;
  url: string;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered by buildServer (auto-generated HEAD routes left out). */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  return [...(routeTables.get(app) ?? [])];
}

export async function buildServer(opts: { engine: Engine; logger: Logger }): Promise<FastifyInstance> {
  const { app, ctx } = createApiServer(opts);
  systemRoutes(app, ctx);
  containerRoutes(app, ctx);
  containerLifecycleRoutes(app, ctx);
  statsRoutes(app, ctx);
  imageRoutes(app, ctx);
  eventRoutes(app, ctx);
  execRoutes(app, ctx);
  archiveRoutes(app, ctx);
  containerFsRoutes(app, ctx);
  networkRoutes(app, ctx);
  volumeRoutes(app, ctx);
  systemDfRoutes(app, ctx);
  authRoutes(app, ctx);
  buildRoutes(app, ctx);
  await attachWsRoutes(app, ctx);
  await app.ready();
  return app;
}

function noSchemas(): never {
  throw new Error('berth routes declare no JSON schemas');
}

/** The server with all of the plumbing and none of the routes (buildServer adds them; tests add their own). */
export function createApiServer(opts: { engine: Engine; logger: Logger }): { app: FastifyInstance; ctx: ApiContext } {
  // Per-request logs only when debugging: an `info` daemon logs API warnings and failures only.
  const quiet = opts.logger.level === 'info' ? 'warn' : opts.logger.level;
  const logger = opts.logger.child({ layer: 'api' }, { level: quiet });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    // Attach, logs -f, events and pulls live as long as they like.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 120_000,
    // Fastify's own answer puts a body after a HEAD's answer and resets the connection under it
    clientErrorHandler: answerClientError,
    rewriteUrl: stripVersionPrefix,
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQueryString },
    // No route declares a JSON schema: without these, Fastify loads Ajv and its serializer
    // compiler at start (~40 ms of the daemon's start-up) for nothing.
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
  }) as unknown as FastifyInstance;

  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    if (isAutoHeadRoute(route)) return;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url ?? '' });
  });

  app.addHook('onRequest', (request, reply, done) => {
    // On the raw response, so replies written after reply.hijack() carry them too.
    setApiHeaders(reply.raw);
    if (request.is404) return done();
    const bad = versionError(apiVersionOf(request));
    done(bad);
  });

  // Fastify serialises objects as `application/json; charset=utf-8`; the Go client wants the bare type.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json;')) reply.header('content-type', JSON_CONTENT_TYPE);
    done(null, payload);
  });

  installBodyParsers(app, BODY_LIMIT);
  app.addHook('preHandler', (request, _reply, done) => {
    try {
      refuseNulBytes(request);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendPageNotFound(request, reply));
  app.options('*', (_request, reply) => {
    reply.code(200).send();
  });

  const hijack = new HijackRegistry(app, logger);
  app.server.on('upgrade', hijack.handleUpgrade);
  return { app, ctx: { engine: opts.engine, logger: opts.logger, hijack } };
}

/**
 * Fastify adds a HEAD twin for every GET; those are not routes berth declares.
 * Its twins are recognisable by the onSend handler that drops the body.
 */
function isAutoHeadRoute(route: RouteOptions): boolean {
  if (route.method !== 'HEAD') return false;
  const onSend = [route.onSend ?? []].flat() as Array<{ name?: string }>;
  return onSend.some((fn) => fn?.name === 'headRouteOnSendHandler');
}

/**
 * Listens on a unix socket, replacing a stale socket file; mode 0660, group `group` (a gid, or a
 * name: root when it does not exist; the daemon passes what socket-group.ts found), like dockerd's `-G docker`. The socket is bound in a private (0700) directory beside
 * its path, given its mode and owner there, and only then renamed into place: it is never
 * connectable with the process umask's mode (moby sets umask 0777 around its listen; a umask is
 * process-wide, and the daemon's other work would create files under it meanwhile).
 * `shareDir`: the socket's directory is the daemon's own (the exec-root by default, 0700): make it
 * 0710 with the socket's group, so the group can reach the socket without listing the directory.
 */
export async function listen(app: FastifyInstance, socketPath: string, group: string | number = 'docker', opts: { shareDir?: boolean } = {}): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  const gid = typeof group === 'number' ? group : ((await groupId(group)) ?? 0);
  const dir = dirname(socketPath);
  const staging = await mkdtemp(join(dir, '.berth-listen-'));
  try {
    const bound = join(staging, 'api.sock');
    await app.listen({ path: bound });
    await chmod(bound, 0o660);
    await chown(bound, uid, gid);
    await rm(socketPath, { force: true });
    await rename(bound, socketPath);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (opts.shareDir) {
    await chown(dir, uid, gid);
    await chmod(dir, 0o710);
  }
}

async function groupId(group: string): Promise<number | undefined> {
  if (/^[0-9]+$/.test(group)) return Number(group);
  try {
    const { stdout } = await promisify(execFile)('getent', ['group', group]);
    const gid = Number(stdout.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
