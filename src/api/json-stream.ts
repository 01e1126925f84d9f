// Streaming responses. Progress streams (pull, load, import, push, build) decide their status
// lazily, like moby's output.Flushed() check: an error before the first message is a plain
// HTTP error, after it an in-band `errorDetail` message. Events, logs and wait send their
// headers at once, because clients block on them before doing anything else.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { drained } from './drain.js';
import { JSON_CONTENT_TYPE, messageOf, statusOf, writeErrorResponse } from './errors.js';
import { trackStream, untrackStream } from './open-streams.js';

interface ResponseStream {
  /** Aborted when the client goes away before end(): stop producing. */
  readonly signal: AbortSignal;
  /** Resolves when the socket can take more (after send() returned false) or the client left. */
  drained(): Promise<void>;
  /** Ends the response (idempotent). */
  end(): void;
}

export interface JsonStream extends ResponseStream {
  /** True once the 200 and at least one message were written. */
  readonly started: boolean;
  /** Writes one message + `\r\n`; false means the socket is full (await drained()). */
  send(msg: object): boolean;
  /** Reports `err`: as an HTTP error when nothing was sent yet, else in-band, and ends the response. */
  fail(err: unknown): void;
}

export interface EventStream extends ResponseStream {
  /** Writes one object + `\n` (Go's json.Encoder framing). */
  send(msg: object): boolean;
  fail(err: unknown): void;
}

export interface RawStream extends ResponseStream {
  /** The response itself, for pipeline(source, stream.body) or direct writes. */
  readonly body: ServerResponse;
  write(chunk: Buffer | string): boolean;
  fail(err: unknown): void;
}

/** The in-band error message of JSON streams; both fields, as CLI, docker-py and compose each read one. */
export function errorMessageLine(err: unknown): string {
  const message = messageOf(err);
  return JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n';
}

function watchClient(res: ServerResponse): { signal: AbortSignal; drained(): Promise<void> } {
  const controller = new AbortController();
  res.once('close', () => {
    untrackStream(res);
    if (!res.writableFinished) controller.abort();
  });
  return {
    signal: controller.signal,
    drained: () => drained(res),
  };
}

function startChunked(res: ServerResponse, contentType: string): void {
  // No Content-Length: Node sends `Transfer-Encoding: chunked`, which docker-py needs to stream.
  res.writeHead(200, { 'Content-Type': contentType });
}

function endResponse(res: ServerResponse): void {
  untrackStream(res);
  if (!res.writableEnded && !res.destroyed) res.end();
}

export function openJsonStream(reply: FastifyReply): JsonStream {
  const res = reply.raw;
  const client = watchClient(res);
  let started = false;
  const stream: JsonStream = {
    signal: client.signal,
    drained: client.drained,
    get started() {
      return started;
    },
    send(msg) {
      if (res.writableEnded || res.destroyed) return false;
      if (!started) {
        startChunked(res, JSON_CONTENT_TYPE);
        started = true;
      }
      return res.write(JSON.stringify(msg) + '\r\n');
    },
    fail(err) {
      if (res.writableEnded || res.destroyed) return;
      untrackStream(res);
      if (!started && !res.headersSent) {
        writeErrorResponse(res, err);
        return;
      }
      res.end(errorMessageLine(err));
    },
    end() {
      if (!started && !res.headersSent && !res.writableEnded) startChunked(res, JSON_CONTENT_TYPE);
      endResponse(res);
    },
  };
  trackStream(res, stream);
  return stream;
}

export function openEventStream(reply: FastifyReply): EventStream {
  const res = reply.raw;
  const client = watchClient(res);
  startChunked(res, JSON_CONTENT_TYPE);
  res.flushHeaders();
  const stream: EventStream = {
    signal: client.signal,
    drained: client.drained,
    send(msg) {
      if (res.writableEnded || res.destroyed) return false;
      return res.write(JSON.stringify(msg) + '\n');
    },
    fail(err) {
      if (res.writableEnded || res.destroyed) return;
      untrackStream(res);
      res.end(errorMessageLine(err));
    },
    end: () => endResponse(res),
  };
  trackStream(res, stream);
  return stream;
}

/**
 * A raw body (logs, wait, stats) with its 200 headers flushed at once. `fail` after the
 * start can only end the response; callers that have an in-band form (logs: a stdcopy
 * frame on stream 3) write it themselves first.
 */
export function openRawStream(reply: FastifyReply, contentType: string): RawStream {
  const res = reply.raw;
  const client = watchClient(res);
  startChunked(res, contentType);
  res.flushHeaders();
  const stream: RawStream = {
    body: res,
    signal: client.signal,
    drained: client.drained,
    write(chunk) {
      if (res.writableEnded || res.destroyed) return false;
      return res.write(chunk);
    },
    fail(err) {
      if (statusOf(err) >= 500) reply.log.error({ err }, 'stream failed');
      endResponse(res);
    },
    end: () => endResponse(res),
  };
  trackStream(res, stream);
  return stream;
}
