// /containers/*: the container routes of the Docker Engine API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Duplex } from 'node:stream';
import type { ContainerRecord } from '../../engine/containers/model.js';
import { filterContainers } from '../../engine/containers/filters.js';
import { inspectView, listView } from '../../engine/containers/view.js';
import { containerSizes } from '../../engine/containers/size.js';
import type { AttachSink } from '../../engine/containers/attach-hub.js';
import { InvalidParameterError } from '../../errors.js';
import { JSON_CONTENT_TYPE } from '../errors.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import type { HijackRequest } from '../hijack.js';
import { boolParam, intParam } from '../query.js';
import { apiVersionAtLeast, apiVersionOf, compareVersions } from '../versioning.js';
import { detachKeys } from '../detach-keys.js';
import { writeLogMessages } from '../log-messages.js';
import { frame, StdStream } from '../stdcopy.js';
import { logsStream } from './logs-stream.js';
import { networkApi } from './networks.js';

type Q = Record<string, string | undefined>;
type IdReq = FastifyRequest<{ Params: { id: string }; Querystring: Q }>;

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

export function containerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const containers = ctx.engine.containers;
  const images = ctx.engine.images;

  const viewCtx = (c: ContainerRecord, request?: FastifyRequest) => ({
    bundleDir: containers.bundleDir(c.id),
    logPath: containers.logPath(c.id),
    imageName: c.imageRef,
    execIds: ctx.engine.execs.idsFor(c.id),
    network: networkApi(ctx).containerState(c, request ? apiVersionOf(request) : undefined),
  });

  const listCtx = (c: ContainerRecord) => ({ imageName: c.imageRef, network: networkApi(ctx).containerState(c) });

  app.get('/containers/json', async (request: FastifyRequest<{ Querystring: Q }>, reply) => {
    const q = request.query;
    const filters = Filters.parse(q.filters);
    const list = filterContainers(containers.listCache.newestFirst(containers.list()), {
      sorted: true,
      all: boolParam(q.all, false),
      limit: intParam(q.limit, 'limit') ?? -1,
      filters: filters.toMap(),
      imageId: (ref) => {
        try {
          return images.get(ref).id;
        } catch {
          return undefined;
        }
      },
      container: (ref) => containers.get(ref),
      ports: (c) => listView(c, listCtx(c)).Ports,
      networksOf: (c) => networkApi(ctx).networksOf(c),
    });
    if (!boolParam(q.size, false)) {
      reply.header('content-type', JSON_CONTENT_TYPE);
      return containers.listCache.json(list, (c) => listView(c, listCtx(c)));
    }
    return Promise.all(list.map(async (c) => ({ ...listView(c, listCtx(c)), ...(await containerSizes(containers, c)) })));
  });

  app.post('/containers/create', async (request: FastifyRequest<{ Querystring: Q; Body: unknown }>, reply) => {
    const created = await containers.create(request.body ?? {}, request.query.name || undefined);
    reply.code(201);
    return created;
  });

  app.get('/containers/:id/json', async (request: IdReq) => {
    const c = containers.get(request.params.id);
    const view = inspectView(c, viewCtx(c, request));
    return boolParam(request.query.size, false) ? { ...view, ...(await containerSizes(containers, c)) } : view;
  });

  app.post('/containers/:id/start', async (request: IdReq, reply) => {
    await containers.start(request.params.id);
    reply.code(204).send();
  });

  app.post('/containers/:id/stop', async (request: IdReq, reply) => {
    const t = intParam(request.query.t, 't');
    await containers.stop(request.params.id, { timeout: t, signal: request.query.signal || undefined });
    reply.code(204).send();
  });

  app.post('/containers/:id/kill', async (request: IdReq, reply) => {
    await containers.kill(request.params.id, request.query.signal || undefined);
    reply.code(204).send();
  });

  app.post('/containers/:id/wait', async (request: IdReq, reply: FastifyReply) => {
    // Before 1.30 the condition parameter did not exist.
    const condition = apiVersionAtLeast(request, '1.30') ? (request.query.condition ?? '') : '';
    // A client that leaves (docker-py polls wait with short timeouts) takes its listeners with it.
    const gone = new AbortController();
    const wait = containers.waiter(request.params.id, condition, gone.signal);
    // docker run sends start only after these headers arrive: flush them before blocking.
    reply.hijack();
    const res = reply.raw;
    res.once('close', () => gone.abort());
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await wait().catch((err: Error) => ({ StatusCode: -1, Error: { Message: err.message } }));
    if (!res.destroyed && !res.writableEnded) res.end(`${JSON.stringify(result)}\n`);
  });

  app.post('/containers/:id/resize', async (request: IdReq, reply) => {
    const h = intParam(request.query.h, 'h') ?? 0;
    const w = intParam(request.query.w, 'w') ?? 0;
    if (h < 0 || w < 0) throw new InvalidParameterError('height and width must be positive');
    await containers.resize(request.params.id, h, w);
    reply.code(200).send();
  });

  app.delete('/containers/:id', async (request: IdReq, reply) => {
    await containers.remove(request.params.id, { force: boolParam(request.query.force, false), volumes: boolParam(request.query.v, false) });
    reply.code(204).send();
  });

  app.get('/containers/:id/logs', async (request: IdReq, reply) => {
    await logsStream(request, reply, ctx);
  });

  ctx.hijack.register('POST', '/containers/:id/attach', async (req: HijackRequest, upgrade: (contentType: string) => Duplex) => {
    const c = containers.get(req.params.id);
    const q = req.query as Q;
    const stdin = boolParam(q.stdin, false);
    const stdout = boolParam(q.stdout, false);
    const stderr = boolParam(q.stderr, false);
    const stream = boolParam(q.stream, false);
    const logs = boolParam(q.logs, false);
    const keys = detachKeys(q.detachKeys); // a bad spec is a 400 before the upgrade, as in moby
    const tty = c.config.Tty;
    const socket = upgrade(!tty && compareVersions(req.apiVersion, '1.42') >= 0 ? MULTIPLEXED : RAW);
    const ac = new AbortController();
    socket.once('close', () => ac.abort());
    socket.on('error', () => ac.abort());
    let ended = false;
    // The registry closes the connection when this handler returns: stay until output is over.
    let sessionOver!: () => void;
    const over = new Promise<void>((resolve) => (sessionOver = resolve));
    ac.signal.addEventListener('abort', () => sessionOver(), { once: true });
    const sink: AttachSink = {
      write: (name, chunk) => {
        if (ended) return true;
        return socket.write(tty ? chunk : frame(name === 'stdout' ? StdStream.Stdout : StdStream.Stderr, chunk));
      },
      onceDrain: (cb) => socket.once('drain', cb),
      // A half-close: the client reads EOF and finishes; its own half-close is not ours.
      close: () => {
        if (ended) return;
        ended = true;
        socket.end();
        sessionOver();
      },
    };
    if (logs) {
      // one frame per message as moby's replay writes them, many to a write
      const { entries } = containers.logs(c.id, { stdout, stderr, follow: false, tail: -1, signal: ac.signal });
      await writeLogMessages(entries, socket, { tty });
    }
    if (!stream) {
      sink.close();
      return;
    }
    if (!stdin) socket.resume();
    await containers.attachStreams(c.id, { stdin: stdin ? socket : null, stdout, stderr, signal: ac.signal, detachKeys: keys }, sink);
    await over;
  });
}
