// GET /system/df (`docker system df [-v]`): images, containers and local volumes with their
// sizes, as moby's DiskUsage (build cache: berth has none to report).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { containerSizes } from '../../engine/containers/size.js';
import { listView } from '../../engine/containers/view.js';
import { imageListView } from '../../engine/image-view.js';
import { InvalidParameterError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { listParam } from '../query.js';

const TYPES = new Set(['container', 'image', 'volume', 'build-cache']);

export function systemDfRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { containers, images, volumes, execs } = ctx.engine;

  app.get('/system/df', async (request: FastifyRequest<{ Querystring: Record<string, string | string[] | undefined> }>) => {
    const types = listParam(request.query.type);
    for (const t of types) if (!TYPES.has(t)) throw new InvalidParameterError(`unknown object type: ${t}`);
    const want = (t: string) => types.length === 0 || types.includes(t);
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const usedBy = new Map<string, number>();
      for (const c of containers.list()) usedBy.set(c.imageId, (usedBy.get(c.imageId) ?? 0) + 1);
      const list = images.list();
      out.LayersSize = list.reduce((n, img) => n + img.size, 0);
      out.Images = list.map((img) => ({ ...imageListView(img, usedBy.get(img.id) ?? 0), SharedSize: 0 }));
    } else out.Images = null;
    out.Containers = want('container')
      ? await Promise.all(
          containers.list().map(async (c) => ({
            ...listView(c, { bundleDir: containers.bundleDir(c.id), logPath: containers.logPath(c.id), imageName: c.imageRef, execIds: execs.idsFor(c.id) }),
            ...(await containerSizes(containers, c)),
          })),
        )
      : null;
    out.Volumes = want('volume') ? await volumes.usage() : null;
    out.BuildCache = want('build-cache') ? [] : null;
    return out;
  });
}
