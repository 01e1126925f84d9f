// docker exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked), POST /exec/{id}/resize,
// GET /exec/{id}/json (moby api/server/router/container/exec.go).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Duplex } from 'node:stream';
import type { ExecSink } from '../../engine/exec/service.js';
import { parseExecCreate, parseExecStart } from '../../engine/exec/request.js';
import { InvalidParameterError, SystemError } from '../../errors.js';
import { parseJsonText } from '../body.js';
import { messageOf } from '../errors.js';
import type { ApiContext } from '../context.js';
import { detachKeys } from '../detach-keys.js';
import type { HijackRequest } from '../hijack.js';
import { frame, StdStream } from '../stdcopy.js';
import { apiVersionOf, compareVersions } from '../versioning.js';

type Q = Record<string, string | undefined>;

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

/** moby httputils.Uint32Value: empty is 0, else a decimal uint32. */
function uint32Param(value: string | undefined, name: 'height' | 'width'): number {
  if (value === undefined || value === '') return 0;
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n > 0xffffffff) {
    throw new InvalidParameterError(`invalid resize ${name} "${value}": strconv.ParseUint: parsing "${value}": invalid syntax`);
  }
  return n;
}

export function execRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const execs = ctx.engine.execs;

  app.post('/containers/:id/exec', async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>, reply) => {
    const opts = parseExecCreate(request.body);
    let keys: number[] = [];
    if (opts.DetachKeys) {
      try {
        keys = detachKeys(opts.DetachKeys);
      } catch {
        throw new SystemError(`Invalid escape keys (${opts.DetachKeys}) provided`);
      }
    }
    // Before 1.42 the console size was not part of the API.
    if (compareVersions(apiVersionOf(request), '1.42') < 0) opts.ConsoleSize = null;
    const created = await execs.create(request.params.id, opts, keys);
    reply.code(201);
    return created;
  });

  app.get('/exec/:id/json', async (request: FastifyRequest<{ Params: { id: string } }>) => execs.inspect(request.params.id));

  app.post('/exec/:id/resize', async (request: FastifyRequest<{ Params: { id: string }; Querystring: Q }>, reply) => {
    const h = uint32Param(request.query.h, 'height');
    const w = uint32Param(request.query.w, 'width');
    await execs.resize(request.params.id, h, w);
    reply.code(200).send();
  });

  ctx.hijack.register('POST', '/exec/:id/start', async (req: HijackRequest, upgrade: (contentType: string) => Duplex) => {
    const opts = parseExecStart(req.body && req.body.length > 0 ? parseJsonText(req.body.toString('utf8')) : {});
    if (compareVersions(req.apiVersion, '1.42') < 0 || !opts.Tty) opts.ConsoleSize = null;
    execs.checkStart(req.params.id);
    if (opts.Detach) {
      // Answered 200 with no body by the registry once this returns.
      await execs.start(req.params.id, opts);
      return;
    }
    // Framing follows the start body's Tty, not the exec's (moby).
    const tty = opts.Tty;
    const socket = upgrade(!tty && compareVersions(req.apiVersion, '1.42') >= 0 ? MULTIPLEXED : RAW);
    const ac = new AbortController();
    socket.once('close', () => ac.abort());
    socket.on('error', () => ac.abort());
    const sink: ExecSink = {
      write: (name, chunk) => socket.write(tty ? chunk : frame(name === 'stdout' ? StdStream.Stdout : StdStream.Stderr, chunk)),
      onceDrain: (cb) => socket.once('drain', cb),
    };
    try {
      await execs.start(req.params.id, opts, { stdin: socket, sink, signal: ac.signal });
    } catch (err) {
      // After the upgrade moby writes the error as text on the stdout stream.
      // through messageOf like every error answer: no host path reaches the client
      const text = `${messageOf(err)}\r\n`;
      if (!socket.writableEnded && !socket.destroyed) socket.write(tty ? Buffer.from(text) : frame(StdStream.Stdout, text));
    }
  });
}
