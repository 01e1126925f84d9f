// POST /images/{name}/push: the progress stream of a push, as moby's postImagesPush. An error
// before the first message (a malformed name) is a plain HTTP error; moby writes "The push
// refers to repository" first, so a missing tag is an in-band error, as Docker's.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ImageService } from '../../images/image-service.js';
import { openJsonStream } from '../json-stream.js';
import { decodeRegistryAuth } from './images.js';
import { InvalidParameterError } from '../../errors.js';
import type { RegistryAuth } from '../../images/types.js';

/**
 * moby: the X-Registry-Auth header (undecodable is ignored), else an AuthConfig as the JSON
 * body (the old form), else a 400: Docker's clients always send the header, `{}` at least.
 */
function pushAuth(request: FastifyRequest): RegistryAuth | undefined {
  const header = request.headers['x-registry-auth'];
  if (header !== undefined && header !== '') return decodeRegistryAuth(header);
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body)) return body as RegistryAuth;
  throw new InvalidParameterError('bad parameters and missing X-Registry-Auth: invalid X-Registry-Auth header: EOF');
}

export async function pushImageRoute(images: ImageService, name: string, request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply: FastifyReply): Promise<void> {
  const auth = pushAuth(request);
  const stream = openJsonStream(reply);
  try {
    await images.push(name, {
      tag: request.query.tag || undefined,
      auth,
      progress: (m) => stream.send(m),
      signal: stream.signal,
    });
    stream.end();
  } catch (err) {
    stream.fail(err);
  }
}
