// POST /auth (docker login): the credentials are checked against the registry and answered with
// moby's AuthenticateOKBody; the daemon keeps nothing (the client stores them).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SystemError } from '../../errors.js';
import { isJsonObject, wrongFieldType, wrongValueType } from '../../engine/go-json.js';
import type { RegistryAuth } from '../../images/types.js';
import type { ApiContext } from '../context.js';

const FIELDS = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;

/** moby's registry.AuthConfig as Go's decoder reads it: string fields, others ignored. */
export function decodeAuthConfig(body: unknown): RegistryAuth {
  // moby's handler decodes with json.NewDecoder: an empty body is io.EOF, a 500
  if (body === undefined) throw new SystemError('EOF');
  if (body === null) return {};
  if (!isJsonObject(body)) throw wrongValueType(body, 'registry.AuthConfig');
  const out: Record<string, string> = {};
  // Go matches field names case-insensitively
  for (const [key, value] of Object.entries(body)) {
    const field = FIELDS.find((f) => f === key.toLowerCase());
    if (field === undefined || value === null) continue;
    if (typeof value !== 'string') throw wrongFieldType(`AuthConfig.${field}`, value, 'string');
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
