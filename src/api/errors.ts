// The one place where typed errors become HTTP statuses and Docker-shaped bodies.
// The Go client only decodes an error body when Content-Type is exactly `application/json`.
import type { ServerResponse } from 'node:http';
import { getSystemErrorMap } from 'node:util';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  BerthError,
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  UnauthorizedError,
  UnavailableError,
  errorMessage,
} from '../errors.js';
import { streamOf } from './open-streams.js';
import { apiHeaderLines } from './versioning.js';

export const JSON_CONTENT_TYPE = 'application/json';

export function statusOf(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidParameterError) return 400;
  if (err instanceof ConflictError) return 409;
  if (err instanceof NotModifiedError) return 304;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof UnavailableError) return 503;
  const fastifyStatus = fastifyErrorStatus(err);
  if (fastifyStatus !== undefined) return fastifyStatus;
  return 500;
}

/** Fastify's own client errors (bad content type, oversized body...) keep their 4xx status. */
function fastifyErrorStatus(err: unknown): number | undefined {
  const e = err as Partial<FastifyError>;
  if (typeof e?.code !== 'string' || !e.code.startsWith('FST_')) return undefined;
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 400;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return e.statusCode;
  return undefined;
}

/** The message a client sees; Fastify's texts are reworded in Docker's style. */
export function messageOf(err: unknown, request?: { headers: Record<string, string | string[] | undefined> }): string {
  const code = (err as Partial<FastifyError>)?.code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `malformed Content-Type header (${String(request?.headers['content-type'] ?? '')})`;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is too large';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'request body size did not match Content-Length';
    default:
      return withoutHostPaths(err, errorMessage(err));
  }
}

/** The daemon's own directories, which error answers name by role (`<data-root>/...`), never by host path. */
const hostRoots: Array<{ path: string; name: string }> = [];

export function hideHostPaths(roots: { dataRoot?: string; execRoot?: string }): void {
  hostRoots.length = 0;
  for (const [name, path] of [['<data-root>', roots.dataRoot], ['<exec-root>', roots.execRoot]] as const) {
    const trimmed = path?.replace(/\/+$/, '');
    if (trimmed) hostRoots.push({ path: trimmed, name });
  }
  // The longer first, for an exec-root inside the data-root.
  hostRoots.sort((a, b) => b.path.length - a.path.length);
}

/**
 * The last line of defence for what reaches a client: Node's own errors (an fs call's ENOENT, an
 * argument it refused) quote the host path or value they failed on, so they are reworded to the
 * operation and its reason (the full error is logged as a 500); any message naming the data-root
 * or exec-root gets the role instead of the path.
 */
function withoutHostPaths(err: unknown, message: string): string {
  let text = message;
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  if (!(err instanceof BerthError) && typeof e?.code === 'string') {
    if (typeof e.syscall === 'string' && typeof e.errno === 'number') {
      const reason = getSystemErrorMap().get(e.errno)?.[1] ?? e.code;
      text = `${e.syscall}: ${reason}`;
    } else if (e.code.startsWith('ERR_')) {
      // "The argument 'path' must be ... without null bytes. Received '/var/lib/berth/...'"
      text = text.replace(/\.?\s*Received[\s\S]*$/, '');
    }
  }
  for (const { path, name } of hostRoots) text = text.split(path).join(name);
  // SQLite's SQLITE_FULL in the words of every other write that meets a full disk (Docker's ENOSPC)
  text = text.replace(/database or disk is full/g, 'write <data-root>/berth.db: no space left on device');
  return text;
}

export function errorBody(message: string): string {
  return JSON.stringify({ message });
}

/** Writes an error on a raw response whose headers are not sent yet (streams, hijacked replies). */
export function writeErrorResponse(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = errorBody(messageOf(err));
  res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A complete error response as raw bytes, for sockets no longer owned by the HTTP parser. */
export function rawErrorResponse(err: unknown, method?: string): string {
  const status = statusOf(err);
  const body = status === 304 ? '' : errorBody(messageOf(err));
  const head =
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    (body ? `Content-Type: ${JSON_CONTENT_TYPE}\r\n` : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    apiHeaderLines() +
    'Connection: close\r\n\r\n';
  // a HEAD answer has the headers of the GET one and never a body (the client would read it as the next answer)
  return method === 'HEAD' ? head : head + body;
}

const STATUS_TEXT: Record<number, string> = {
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Logs what the user cannot fix: server errors with their stack. */
export function logIfServerError(logger: { error(obj: object, msg: string): void }, err: unknown, context: Record<string, unknown>): void {
  if (statusOf(err) >= 500) logger.error({ err, ...context }, 'request failed');
}

/** Fastify error handler: every thrown error leaves as `{"message": ...}`. */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  logIfServerError(request.log, err, { method: request.method, url: request.url });
  if (reply.raw.headersSent || reply.raw.writableEnded) {
    // A stream already started: report in-band when it has a way to, else just end it.
    const stream = streamOf(reply.raw);
    if (stream) stream.fail(err);
    else if (!reply.raw.writableEnded) reply.raw.destroy();
    return;
  }
  const status = statusOf(err);
  if (status === 304) {
    reply.code(304).send();
    return;
  }
  reply.code(status).header('Content-Type', JSON_CONTENT_TYPE).send(errorBody(messageOf(err, request)));
}

export function sendPageNotFound(_request: FastifyRequest, reply: FastifyReply): void {
  reply.code(404).header('Content-Type', JSON_CONTENT_TYPE).send(errorBody('page not found'));
}
