// Hijacked streams: POST /containers/{id}/attach and POST /exec/{id}/start. With `Upgrade: tcp`
// (docker CLI, docker-py) the answer is `101 UPGRADED` and raw bytes both ways on the socket;
// without it (dockerode) a `200 OK` delimited by connection close, stdin being the request body.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { parseQueryString } from './query-parser.js';
import { Duplex, Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Logger } from 'pino';
import { hasBody, readBuffer } from './body.js';
import { messageOf, rawErrorResponse, statusOf } from './errors.js';
import { readUpgradeBody } from './upgrade-body.js';
import { answerAsOrdinary } from './upgrade-fallback.js';
import { apiHeaderLines, apiVersionOf, stripVersionPrefix, versionError } from './versioning.js';

export { detachKeys, DEFAULT_DETACH_KEYS } from './detach-keys.js';

export interface HijackRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  headers: IncomingHttpHeaders;
  apiVersion: string;
  /** The request body read in full (exec start's JSON), or undefined when there was none. */
  body: Buffer | undefined;
}

/**
 * Answers the request and hands over the connection. Stdout/stderr bytes go to the duplex
 * (framed by the caller when needed), stdin comes out of it; its 'end' is the client's
 * half-close, not a disconnect ('close' is). Call at most once.
 */
export type Upgrade = (contentType: string) => Duplex;

/**
 * Validates (throwing typed errors, answered as ordinary JSON errors), then calls upgrade().
 * When the promise settles the registry ends the write side if the handler has not.
 * Returning without upgrading answers `200` with an empty body (exec start with Detach).
 */
export type HijackHandler = (req: HijackRequest, upgrade: Upgrade) => Promise<void>;

interface HijackRoute {
  method: string;
  segments: string[];
  handler: HijackHandler;
}

/** The part of the body that a JSON hijack request may carry (exec start options). */
const HIJACK_BODY_LIMIT = 1024 * 1024;

export class HijackRegistry {
  private readonly routes: HijackRoute[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly logger: Logger,
  ) {}

  /** `path` in Fastify syntax, e.g. '/containers/:id/attach'. Registers the Upgrade and the plain variant. */
  register(method: HTTPMethods, path: string, handler: HijackHandler): void {
    this.routes.push({ method: method.toUpperCase(), segments: path.split('/'), handler });
    this.app.route({
      method,
      url: path,
      config: { rawBody: true },
      handler: (request, reply) => this.servePlain(request, reply, handler),
    });
  }

  /** server.on('upgrade') listener. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    // WebSocket upgrades belong to whoever else listens for them (e.g. attach/ws); a handshake is a GET (RFC 6455).
    if (isWebSocketHandshake(req) && this.app.server.listenerCount('upgrade') > 1) {
      return;
    }
    socket.on('error', (err) => this.logger.debug({ err }, 'hijacked connection error'));
    socket.setTimeout(0);
    this.serveUpgrade(req, socket, head).catch((err: unknown) => {
      this.logger.error({ err }, 'hijack failed');
      socket.destroy();
    });
  };

  private match(method: string, path: string): { route: HijackRoute; params: Record<string, string> } | undefined {
    const parts = path.split('/');
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const want = route.segments[i]!;
        const got = parts[i]!;
        if (want.startsWith(':')) {
          try {
            params[want.slice(1)] = decodeURIComponent(got);
          } catch {
            ok = false;
          }
          if (got === '') ok = false;
        } else if (want !== got) {
          ok = false;
        }
      }
      if (ok) return { route, params };
    }
    return undefined;
  }

  private async serveUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const url = stripVersionPrefix(req);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const found = this.match(req.method ?? 'GET', path);
    if (!found) {
      await answerAsOrdinary(this.app, req, socket, head, HIJACK_BODY_LIMIT);
      return;
    }
    const apiVersion = apiVersionOf(req);
    const badVersion = versionError(apiVersion);
    if (badVersion) {
      socket.end(rawErrorResponse(badVersion));
      return;
    }
    let upgraded = false;
    try {
      const body = await readUpgradeBody(socket, head, req.headers, HIJACK_BODY_LIMIT);
      const hreq: HijackRequest = {
        params: found.params,
        query: q < 0 ? {} : parseQueryString(url.slice(q + 1)),
        headers: req.headers,
        apiVersion,
        body,
      };
      await found.route.handler(hreq, (contentType) => {
        if (upgraded) throw new Error('hijacked connection upgraded twice');
        upgraded = true;
        socket.write(
          `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${apiHeaderLines()}\r\n`,
        );
        return socket;
      });
    } catch (err) {
      this.reportFailure(err, upgraded, socket, req.method, path);
      return;
    }
    if (!upgraded) {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${apiHeaderLines()}Connection: close\r\n\r\n`);
      return;
    }
    if (!socket.writableEnded && !socket.destroyed) socket.end();
  }

  /** Same handler without `Upgrade`: a close-delimited 200 on the raw socket, stdin from the request body. */
  private async servePlain(request: FastifyRequest, reply: FastifyReply, handler: HijackHandler): Promise<void> {
    const raw = request.raw;
    const isJson = /^application\/json\b/i.test(request.headers['content-type'] ?? '');
    const body = isJson && hasBody(raw) ? await readBuffer(raw, HIJACK_BODY_LIMIT) : undefined;
    const hreq: HijackRequest = {
      params: request.params as Record<string, string>,
      query: request.query as Record<string, string | string[] | undefined>,
      headers: request.headers,
      apiVersion: apiVersionOf(request),
      body,
    };
    const socket = raw.socket;
    let stream: Duplex | undefined;
    try {
      await handler(hreq, (contentType) => {
        if (stream) throw new Error('hijacked connection upgraded twice');
        reply.hijack();
        socket.setTimeout(0);
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n${apiHeaderLines()}Connection: close\r\n\r\n`);
        stream = new JoinedDuplex(body === undefined ? raw : Readable.from([]), socket);
        return stream;
      });
    } catch (err) {
      if (!stream) throw err; // answered by the ordinary error handler
      this.reportFailure(err, true, stream, request.method, request.url);
      return;
    }
    if (!stream) {
      reply.code(200).send();
      return;
    }
    if (!stream.writableEnded && !stream.destroyed) stream.end();
  }

  /** Before the upgrade: an ordinary JSON error. After: the message as text on the stream, as moby does. */
  private reportFailure(err: unknown, upgraded: boolean, conn: Duplex, method: string | undefined, path: string): void {
    if (statusOf(err) >= 500) this.logger.error({ err, method, url: path }, 'hijacked request failed');
    if (conn.writableEnded || conn.destroyed) return;
    if (!upgraded) {
      conn.end(rawErrorResponse(err));
      return;
    }
    conn.end(`${messageOf(err)}\r\n`);
  }
}

/** A WebSocket opening handshake, which only a GET can be. */
export function isWebSocketHandshake(req: IncomingMessage): boolean {
  return req.method === 'GET' && String(req.headers.upgrade).toLowerCase() === 'websocket';
}

/** A duplex reading from `source` (the request body) and writing raw to `sink` (the socket). */
class JoinedDuplex extends Duplex {
  private listening = false;

  constructor(
    private readonly source: Readable,
    private readonly sink: Socket,
  ) {
    super({ allowHalfOpen: true });
    sink.once('close', () => this.destroy());
  }

  override _read(): void {
    if (!this.listening) {
      this.listening = true;
      this.source.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) this.source.pause();
      });
      this.source.once('end', () => this.push(null));
      this.source.once('error', (err) => this.destroy(err));
    }
    this.source.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.sink.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.sink.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.sink.destroyed) this.sink.destroy();
    done(err);
  }
}
