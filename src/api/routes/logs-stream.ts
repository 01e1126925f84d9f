// GET /containers/{id}/logs: the log file as Docker's stream (frames without a TTY, raw with one).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseLogTime } from '../../engine/logs/index.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { boolParam } from '../query.js';
import { frame, FrameBatcher, StdStream } from '../stdcopy.js';
import { apiVersionAtLeast } from '../versioning.js';

type Q = Record<string, string | undefined>;

const BATCH_BYTES = 256 * 1024;

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
  // Lines are batched: one write (and, without a TTY, one frame per run of a stream) per read of
  // the log file, not per line; the batch goes out as soon as the reader waits for more.
  const batch = new FrameBatcher(tty);
  let pending: NodeJS.Immediate | undefined;
  const flush = (): void => {
    pending = undefined;
    const buf = batch.take();
    if (buf && !res.destroyed) res.write(buf);
  };
  try {
    for await (const e of entries) {
      batch.push(e.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data);
      if (batch.size < BATCH_BYTES) {
        pending ??= setImmediate(flush);
        continue;
      }
      clearImmediate(pending);
      flush();
      if (res.writableNeedDrain && !res.destroyed) await new Promise((r) => res.once('drain', r).once('close', r));
      if (res.destroyed) break;
    }
  } catch (err) {
    clearImmediate(pending);
    flush();
    if (!ac.signal.aborted && !tty) res.write(frame(StdStream.SystemErr, Buffer.from(`Error grabbing logs: ${(err as Error).message}\n`)));
  }
  clearImmediate(pending);
  flush();
  res.end();
}
