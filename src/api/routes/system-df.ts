// GET /system/df (`docker system df [-v]`) and POST /build/prune (`docker builder prune`): the
// engine's disk usage (src/engine/disk) with the API version's shape.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { diskUsage, cacheRecords } from '../../engine/disk/disk-usage.js';
import { pruneBuildCache } from '../../engine/disk/builder-prune.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { Filters } from '../filters.js';
import { boolParam, firstValue, listParam } from '../query.js';
import { apiVersionOf, compareVersions } from '../versioning.js';

type Q = Record<string, string | string[] | undefined>;

export function systemDfRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { containers, images, volumes, execs } = ctx.engine;
  const buildCache = () => ctx.engine.builds?.cache;

  app.get('/system/df', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const version = apiVersionOf(request);
    const modern = compareVersions(version, '1.42') >= 0;
    const types = modern && request.query.type !== undefined ? listParam(request.query.type) : undefined;
    return diskUsage(
      { images, containers, volumes, execs, buildCache: buildCache() },
      {
        types,
        compat: { noneRefs: compareVersions(version, '1.43') < 0, virtualSize: compareVersions(version, '1.44') < 0 },
        builderSize: !modern,
      },
    );
  });

  app.post('/build/prune', async (request: FastifyRequest<{ Querystring: Q }>) => {
    const q = request.query;
    const filters = Filters.parse(q.filters);
    const keep = firstValue(q['keep-storage']) ?? firstValue(q['reserved-space']);
    const keepStorage = keep === undefined || keep === '' ? 0 : Number(keep);
    if (!Number.isInteger(keepStorage) || keepStorage < 0) throw new InvalidParameterError(`invalid keep-storage value: ${keep}`);
    const cache = buildCache();
    if (cache === undefined) return { CachesDeleted: null, SpaceReclaimed: 0 };
    const report = pruneBuildCache(
      {
        cache,
        records: () => cacheRecords({ images, containers, buildCache: cache }),
        untagged: (id) => {
          try {
            const img = images.get(id);
            return img.repoTags.length === 0 && img.repoDigests.length === 0;
          } catch {
            return false;
          }
        },
        remove: (id) => images.remove(id, { force: false, noprune: false, inUse: (i) => containers.imageUser(i) }),
        layerSize: (c) => images.layerSize(c),
      },
      { all: boolParam(firstValue(q.all), false), keepStorage, filters },
    );
    await images.collectGarbage();
    return report;
  });
}
