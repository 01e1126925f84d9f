// POST /build: the classic builder (moby's api/server/router/build). The body is the context
// tar, streamed; the answer is Docker's JSON message stream. A failed step ends the stream with
// an errorDetail carrying its exit code, which the CLI makes its own exit status.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParameterError, NotImplementedError } from '../../errors.js';
import { BuildStepError } from '../../images/build/build-errors.js';
import type { RegistryAuth } from '../../images/types.js';
import type { BuildRequest } from '../../engine/build/build-service.js';
import type { ApiContext } from '../context.js';
import { rawBody, rawBodyRoute } from '../body.js';
import { openJsonStream } from '../json-stream.js';
import { boolParam, firstValue, intParam, listParam, type Query } from '../query.js';

/** A JSON object parameter (buildargs, labels); moby's texts for bad JSON. */
function jsonMap(value: unknown, name: string): Record<string, string | null> {
  const s = firstValue(value);
  if (s === undefined || s === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (err) {
    throw new InvalidParameterError(`error reading ${name} parameter: ${(err as Error).message}`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterError(`error reading ${name} parameter: json: cannot unmarshal ${Array.isArray(parsed) ? 'array' : typeof parsed} into Go value of type map[string]*string`);
  for (const [k, v] of Object.entries(parsed)) {
    if (v !== null && typeof v !== 'string') throw new InvalidParameterError(`error reading ${name} parameter: json: cannot unmarshal ${typeof v} into Go value of type string (key ${k})`);
  }
  return parsed as Record<string, string | null>;
}

/** X-Registry-Config: base64 JSON of registry host -> credentials; undecodable = none, as moby. */
function registryConfig(header: string | string[] | undefined): Record<string, RegistryAuth> {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return {};
  try {
    const parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, RegistryAuth>) : {};
  } catch {
    return {};
  }
}

export function parseBuildQuery(q: Query, headers: Record<string, string | string[] | undefined>): BuildRequest {
  if (firstValue(q.remote)) {
    throw new InvalidParameterError(
      'berth does not fetch remote build contexts (remote=URL): Docker would download the URL (a git repository or a tarball) and build from it; send the context as the request body instead',
    );
  }
  if (firstValue(q.version) === '2') throw new NotImplementedError('BuildKit (version=2) is not supported by berth; use the classic builder (version=1)');
  const labels = jsonMap(q.labels, 'labels');
  const mem = (name: string) => intParam(q[name], name);
  const host = {
    NetworkMode: firstValue(q.networkmode) || undefined,
    ExtraHosts: listParam(q.extrahosts).flatMap((h) => h.split(',')).filter(Boolean),
    ShmSize: mem('shmsize'),
    Memory: mem('memory'),
    MemorySwap: mem('memswap'),
    CpuShares: mem('cpushares'),
    CpuPeriod: mem('cpuperiod'),
    CpuQuota: mem('cpuquota'),
    CpusetCpus: firstValue(q.cpusetcpus) || undefined,
    CpusetMems: firstValue(q.cpusetmems) || undefined,
  };
  for (const k of Object.keys(host) as (keyof typeof host)[]) {
    const v = host[k];
    if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0) || v === 'default') delete host[k];
  }
  const forceRm = boolParam(q.forcerm, false);
  return {
    tags: listParam(q.t).filter((t) => t !== ''),
    dockerfile: firstValue(q.dockerfile) ?? '',
    buildArgs: jsonMap(q.buildargs, 'buildargs'),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])),
    target: firstValue(q.target) || undefined,
    noCache: boolParam(q.nocache, false),
    pull: boolParam(q.pull, false),
    // moby: rm defaults to true; forcerm implies it
    rm: forceRm || boolParam(q.rm, true),
    forceRm,
    quiet: boolParam(q.q, false),
    platform: firstValue(q.platform) || undefined,
    host,
    registryAuth: registryConfig(headers['x-registry-config']),
  };
}

export function buildRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/build', rawBodyRoute, async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const req = parseBuildQuery(request.query, request.headers);
    ctx.engine.builds.validate(req);
    const stream = openJsonStream(reply);
    try {
      await ctx.engine.builds.build(rawBody(request), req, (m) => stream.send(m), stream.signal);
      stream.end();
    } catch (err) {
      if (err instanceof BuildStepError) {
        stream.send({ errorDetail: { code: err.code, message: err.message }, error: err.message });
        stream.end();
      } else {
        stream.fail(err);
      }
    }
  });
}
