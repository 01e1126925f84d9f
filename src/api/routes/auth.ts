// POST /auth (docker login): the credentials are checked against the registry and answered with
// moby's AuthenticateOKBody; the daemon keeps nothing (the client stores them).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SystemError } from '../../errors.js';
import { isJsonObject, wrongFieldType, wrongValueType } from '../../engine/go-json.js';
import type { RegistryAuth } from '../../images/types.js';
import type { ApiContext } from '../context.js';

const FIELDS = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;

/**
 * moby's registry.AuthConfig as Go's decoder reads it: string fields, others ignored. moby's
 * handler returns the decoder's error as it is, so each is a 500 (an empty body: io.EOF).
 */
export function decodeAuthConfig(body: unknown): RegistryAuth {
  if (body === undefined) throw new SystemError('EOF');
  if (body === null) return {};
  if (!isJsonObject(body)) throw new SystemError(wrongValueType(body, 'registry.AuthConfig').message);
  const out: Record<string, string> = {};
  // Go matches field names case-insensitively
  for (const [key, value] of Object.entries(body)) {
    const field = FIELDS.find((f) => f === key.toLowerCase());
    if (field === undefined || value === null) continue;
    if (typeof value !== 'string') throw new SystemError(wrongFieldType(`AuthConfig.${field}`, value, 'string').message);
    out[field] = value;
  }
  return out as RegistryAuth;
}

export function authRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/auth', async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = decodeAuthConfig(request.body);
    const ac = new AbortController();
    reply.raw.once('close', () => ac.abort());
    return ctx.engine.images.login(auth, ac.signal);
  });
}
