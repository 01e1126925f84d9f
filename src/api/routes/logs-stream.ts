// GET /containers/{id}/logs: the log file as Docker's stream (frames without a TTY, raw with one).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseLogTime } from '../../engine/logs/index.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { boolParam } from '../query.js';
import { writeLogMessages } from '../log-messages.js';
import { frame, StdStream } from '../stdcopy.js';
import { apiVersionAtLeast } from '../versioning.js';

type Q = Record<string, string | undefined>;

export async function logsStream(
  request: FastifyRequest<{ Params: { id: string }; Querystring: Q }>,
  reply: FastifyReply,
  ctx: ApiContext,
): Promise<void> {
  const q = request.query;
  const stdout = boolParam(q.stdout, false);
  const stderr = boolParam(q.stderr, false);
  if (!stdout && !stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
  const tail = q.tail === undefined || q.tail === '' || q.tail === 'all' ? -1 : Number(q.tail);
  if (!Number.isInteger(tail)) throw new InvalidParameterError(`invalid value for "tail": "${q.tail}"`);
  const since = q.since && q.since !== '0' ? parseLogTime(q.since) : undefined;
  const until = q.until && q.until !== '0' ? parseLogTime(q.until) : undefined;
  const timestamps = boolParam(q.timestamps, false);
  const ac = new AbortController();
  const { tty, entries } = ctx.engine.containers.logs(request.params.id, {
    stdout,
    stderr,
    since,
    until,
    tail: tail < 0 ? -1 : tail,
    follow: boolParam(q.follow, false),
    signal: ac.signal,
  });
  const multiplexed = !tty && apiVersionAtLeast(request, '1.42');
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream' });
  res.flushHeaders();
  res.once('close', () => ac.abort());
  try {
    await writeLogMessages(entries, res, { tty, timestamps });
  } catch (err) {
    if (!ac.signal.aborted && !tty && !res.destroyed) res.write(frame(StdStream.SystemErr, Buffer.from(`Error grabbing logs: ${(err as Error).message}\n`)));
  }
  res.end();
}
