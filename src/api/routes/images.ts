// /images/*: pull, import, load, list, inspect, tag, remove, prune.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listImages } from '../../engine/image-list.js';
import { imageHistory } from '../../engine/image-history.js';
import { searchImages } from '../../engine/image-search.js';
import { imageInspectView, imageSummaryView, type ImageInspectCompat } from '../../engine/image-view.js';
import { pruneImages } from '../../engine/image-prune.js';
import type { RegistryAuth } from '../../images/types.js';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import { openJsonStream } from '../json-stream.js';
import { boolParam } from '../query.js';
import { rawBody, rawBodyRoute } from '../body.js';
import { apiVersionOf, compareVersions } from '../versioning.js';
import { pushImageRoute } from './image-push.js';

type Q = Record<string, string | undefined>;
type WildReq = FastifyRequest<{ Params: { '*': string }; Querystring: Q }>;

/** X-Registry-Auth: base64url or standard base64 of an AuthConfig JSON, padded or not; empty = {}. */
export function decodeRegistryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  try {
    const json = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const auth = JSON.parse(json) as RegistryAuth;
    return auth && typeof auth === 'object' ? auth : undefined;
  } catch {
    // moby ignores undecodable auth for pulls
    return undefined;
  }
}

/** fromImage + tag as the CLI and docker-py send them; a digest in `tag` means name@digest. */
function pullReference(fromImage: string, tag: string | undefined): string {
  if (!tag) return fromImage;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

/** The fields moby 28 keeps in image inspect for older API versions (getImagesByName). */
export function imageInspectCompat(version: string): ImageInspectCompat {
  return {
    virtualSize: compareVersions(version, '1.44') < 0,
    containerConfig: compareVersions(version, '1.45') < 0,
    legacyConfig: compareVersions(version, '1.50') < 0,
  };
}

export function imageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const images = ctx.engine.images;
  const containers = ctx.engine.containers;

  // The tar streams as it is made; a client that goes away stops the reading.
  const sendSave = async (reply: FastifyReply, names: string[]) => {
    const tarball = await images.save(names);
    reply.raw.once('close', () => tarball.destroy());
    return reply.type('application/x-tar').send(tarball);
  };

  app.post('/images/create', rawBodyRoute, async (request: FastifyRequest<{ Querystring: Q }>, reply: FastifyReply) => {
    const q = request.query;
    const stream = openJsonStream(reply);
    const ac = new AbortController();
    reply.raw.once('close', () => ac.abort());
    try {
      if (q.fromSrc !== undefined) {
        if (q.fromSrc !== '-') throw new NotImplementedError('importing from a URL is not supported by berth; send the tarball as the request body (fromSrc=-)');
        const changes = ([] as string[]).concat((request.query as Record<string, string | string[]>).changes ?? []);
        await images.import(rawBody(request), {
          repo: q.repo || undefined,
          tag: q.tag || undefined,
          message: q.message || undefined,
          changes,
          platform: q.platform || undefined,
          progress: (m) => stream.send(m),
        });
      } else {
        if (!q.fromImage) throw new InvalidParameterError('fromImage or fromSrc is required');
        await images.pull(pullReference(q.fromImage, q.tag), {
          auth: decodeRegistryAuth(request.headers['x-registry-auth']),
          platform: q.platform || undefined,
          progress: (m) => stream.send(m),
          signal: ac.signal,
        });
      }
      stream.end();
    } catch (err) {
      stream.fail(err);
    }
  });

  app.post('/images/load', rawBodyRoute, async (request: FastifyRequest<{ Querystring: Q }>, reply) => {
    const stream = openJsonStream(reply);
    const ac = new AbortController();
    reply.raw.once('close', () => ac.abort());
    try {
      await images.load(rawBody(request), { quiet: boolParam(request.query.quiet, false), progress: (m) => stream.send(m), signal: ac.signal });
      stream.end();
    } catch (err) {
      stream.fail(err);
    }
  });

  // docker save of several images: names=a&names=b
  app.get('/images/get', async (request: FastifyRequest<{ Querystring: { names?: string | string[] } }>, reply) => {
    return sendSave(reply, ([] as string[]).concat(request.query.names ?? []));
  });

  app.get('/images/json', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const version = apiVersionOf(request);
    const filters = Filters.parse(request.query.filters);
    const entries = listImages(images.list(), {
      filters,
      all: boolParam(request.query.all, false),
      sharedSize: compareVersions(version, '1.42') >= 0 && boolParam(request.query['shared-size'], false),
      resolve: (ref) => images.get(ref),
      hasChildren: (id) => images.childrenOf(id).length > 0,
      chainIdsOf: (id) => images.chainIdsOf(id),
      layerSize: (chainId) => images.layerSize(chainId),
    });
    const compat = { noneRefs: compareVersions(version, '1.43') < 0, virtualSize: compareVersions(version, '1.44') < 0 };
    return entries.map((e) => imageSummaryView(e, compat));
  });

  // Registered before /images/* so `search` is not taken for an image name.
  app.get('/images/search', async (request: FastifyRequest<{ Querystring: Q }>, reply) => {
    const q = request.query;
    let limit = 0;
    if (q.limit !== undefined && q.limit !== '') {
      limit = /^[+-]?\d+$/.test(q.limit) ? Number(q.limit) : NaN;
      if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidParameterError(`invalid limit specified${Number.isNaN(limit) ? `: strconv.Atoi: parsing "${q.limit}": invalid syntax` : ''}`);
    }
    const ac = new AbortController();
    reply.raw.once('close', () => ac.abort());
    return searchImages(q.term ?? '', limit, Filters.parse(q.filters), ac.signal);
  });

  // Registered before /images/* so `prune` is not taken for an image name.
  app.post('/images/prune', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const report = pruneImages(images, Filters.parse(request.query.filters), (id) => containers.imageUser(id));
    await images.collectGarbage();
    // blobs kept for pulls that did not finish are unused content too (docker system prune runs this)
    report.SpaceReclaimed += await images.dropPullLeases();
    ctx.engine.events.emit('image', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  });

  // Image names contain '/' and ':', so these routes take the rest of the path and split the
  // action off the end, as moby's {name:.*} routes do.
  app.get('/images/*', async (request: WildReq, reply) => {
    const path = request.params['*'];
    if (path.endsWith('/json')) {
      return imageInspectView(images.get(path.slice(0, -'/json'.length)), imageInspectCompat(apiVersionOf(request)));
    }
    if (path.endsWith('/get')) return sendSave(reply, [path.slice(0, -'/get'.length)]);
    if (path.endsWith('/history')) {
      const img = images.get(path.slice(0, -'/history'.length));
      return imageHistory(img, {
        chainIdsOf: (id) => images.chainIdsOf(id),
        layerSize: (c) => images.layerSize(c),
        lookup: (id) => images.find(id),
      });
    }
    throw new NotFoundError('page not found');
  });

  app.post('/images/*', async (request: WildReq, reply) => {
    const path = request.params['*'];
    if (path.endsWith('/tag')) {
      const q = request.query;
      if (!q.repo) throw new InvalidParameterError('repository name must have at least one component');
      images.tag(path.slice(0, -'/tag'.length), q.repo, q.tag || undefined);
      reply.code(201).send();
      return;
    }
    if (path.endsWith('/push')) return pushImageRoute(images, path.slice(0, -'/push'.length), request, reply);
    throw new NotFoundError('page not found');
  });

  app.delete('/images/*', async (request: WildReq) => {
    const q = request.query;
    const out = images.remove(request.params['*'], {
      force: boolParam(q.force, false),
      noprune: boolParam(q.noprune, false),
      inUse: (id) => containers.imageUser(id),
    });
    // as moby's rmi, the answer comes once the layers are gone
    await images.collectGarbage();
    return out;
  });
}
