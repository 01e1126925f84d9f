// Request bodies. JSON routes get a parsed body (moby's httputils.ReadJSON/CheckForJSON rules);
// streaming routes (load, import, build, archive, attach stdin) declare `config: { rawBody: true }`
// and read request.raw themselves, so nothing large is ever buffered.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../errors.js';
import { tooDeep } from './json-depth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler consumes the body itself from rawBody(request); no parsing or content-type check. */
    rawBody?: boolean;
  }
}

/** Route options fragment for streaming-body routes: `app.post(path, rawBodyRoute, handler)`. */
export const rawBodyRoute = { config: { rawBody: true } } as const;

/** Content types that are always streams, whatever the route declares (tar uploads). */
const STREAM_TYPES = new Set([
  'application/x-tar',
  'application/tar',
  'application/octet-stream',
  'application/gzip',
  'application/x-gzip',
  'application/x-xz',
  'application/x-bzip2',
  'application/zstd',
]);

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The unread request body, for handlers of rawBody routes. */
export function rawBody(request: FastifyRequest): Readable {
  return request.raw;
}

function isRawRoute(request: FastifyRequest): boolean {
  return request.routeOptions.config?.rawBody === true;
}

export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  const deep = tooDeep(text);
  if (deep !== undefined) throw new InvalidParameterError(`invalid JSON: invalid character '${deep}' exceeded max depth`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(`invalid JSON: ${(err as Error).message}`);
  }
}

export function installBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();

  app.addContentTypeParser('application/json', (request, payload, done) => {
    if (isRawRoute(request)) return done(null, undefined);
    readText(payload, bodyLimit).then(
      (text) => {
        try {
          done(null, parseJsonText(text));
        } catch (err) {
          done(err as Error, undefined);
        }
      },
      (err: Error) => done(err, undefined),
    );
  });

  // Everything else stays unread in request.raw. JSON routes still refuse a non-JSON body the way moby does.
  app.addContentTypeParser('*', (request, _payload, done) => {
    const contentType = request.headers['content-type'];
    const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (isRawRoute(request) || STREAM_TYPES.has(mediaType) || !hasBody(request.raw)) return done(null, undefined);
    if (contentType === undefined || contentType === '') {
      // moby refuses a body without a media type too (mime.ParseMediaType fails on the empty string).
      return done(new InvalidParameterError('malformed Content-Type header (): mime: no media type'), undefined);
    }
    done(new InvalidParameterError(`unsupported Content-Type header (${contentType}): must be 'application/json'`), undefined);
  });
}

/** Reads a small body into a string, refusing more than `limit` bytes. */
export function readText(stream: Readable, limit: number): Promise<string> {
  return readBuffer(stream, limit).then((buf) => buf.toString('utf8'));
}

export function readBuffer(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.resume();
        reject(new InvalidParameterError('request body is too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
