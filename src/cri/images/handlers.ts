// ImageService RPCs over the engine's one image store: an image CRI pulls is the image
// `docker images` lists, and the other way round.
import { join } from 'node:path';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { normalize, referenceString } from '../../images/reference.js';
import type { ImageRecord } from '../../images/types.js';
import type { CriContext } from '../context.js';
import type { CriCall, ImageHandlers } from '../handler-types.js';
import { registryAuth, type CriAuthConfig } from './auth.js';
import { ImageFsUsage } from './fs-usage.js';
import { criImage } from './view.js';

interface ImageSpecMsg {
  image?: string;
}

export function imageHandlers(ctx: CriContext): ImageHandlers {
  const { engine } = ctx;
  const images = engine.images;
  const dataRoot = engine.config.dataRoot;
  const usage = new ImageFsUsage([join(dataRoot, 'content'), join(dataRoot, 'snapshots', 'layers')]);
  const sandboxRef = safeNormalize(ctx.config.sandboxImage);

  const view = (rec: ImageRecord) => criImage(rec, { pinned: sandboxRef !== undefined && rec.repoTags.includes(sandboxRef) });

  /** The image a CRI name, id (with or without sha256:, or a unique prefix) or digest names. */
  const lookup = (name: string): ImageRecord | undefined => {
    try {
      return images.get(name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };

  /** Only Docker's containers keep an image from CRI's RemoveImage (containerd's namespaces: k8s.io containers hold their layers, not the image's name). */
  const dockerUser = (imageId: string) => {
    let found: { running: boolean; containerId: string } | null = null;
    for (const c of engine.containers.list()) {
      if (c.imageId !== imageId) continue;
      const running = c.state.Status === 'running' || c.state.Status === 'paused' || c.state.Status === 'restarting';
      if (running) return { running, containerId: c.id };
      found ??= { running, containerId: c.id };
    }
    return found;
  };

  return {
    PullImage: async (req: { image?: ImageSpecMsg; auth?: CriAuthConfig }, call: CriCall) => {
      const name = requireName(req.image);
      const ref = parseRef(name);
      const rec = await ctx.pullImage(name, { auth: registryAuth(req.auth, ref.domain), signal: call.signal });
      return { imageRef: rec.id };
    },

    ImageStatus: async (req: { image?: ImageSpecMsg; verbose?: boolean }) => {
      const name = requireName(req.image);
      const rec = lookup(name);
      // absent is an answer, not an error: kubelet and critest pull when `image` is unset
      if (!rec) return {};
      const res: Record<string, unknown> = { image: view(rec) };
      if (req.verbose) res.info = { info: JSON.stringify({ id: rec.id, imageSpec: rec.config }) };
      return res;
    },

    ListImages: async (req: { filter?: { image?: ImageSpecMsg } }) => {
      const wanted = req.filter?.image?.image;
      if (wanted) {
        const rec = lookup(wanted);
        return { images: rec ? [view(rec)] : [] };
      }
      return { images: images.list().map(view) };
    },

    RemoveImage: async (req: { image?: ImageSpecMsg }) => {
      const name = requireName(req.image);
      const rec = lookup(name);
      if (!rec) return {}; // idempotent: already gone
      if (namesImageItself(name, rec)) {
        // by id or digest: every tag and digest goes with the image
        images.remove(rec.id, { force: true, inUse: dockerUser });
      } else {
        // by tag: that tag; the image goes with its last name
        try {
          images.remove(name, { force: false, inUse: dockerUser });
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      return {};
    },

    ImageFsInfo: async () => {
      const u = await usage.get();
      return {
        imageFilesystems: [
          {
            timestamp: u.timestampNs,
            // a directory on the image store's filesystem: kubelet (cadvisor) finds the device from it
            fsId: { mountpoint: dataRoot },
            usedBytes: { value: String(u.usedBytes) },
            inodesUsed: { value: String(u.inodesUsed) },
          },
        ],
        containerFilesystems: [],
      };
    },
  };
}

function requireName(spec: ImageSpecMsg | undefined): string {
  const name = spec?.image?.trim();
  if (!name) throw new InvalidParameterError('image spec: the image name is empty');
  return name;
}

function parseRef(name: string) {
  try {
    return normalize(name);
  } catch (err) {
    throw new InvalidParameterError(`invalid image reference ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
}

function safeNormalize(name: string): string | undefined {
  try {
    return referenceString(normalize(name));
  } catch {
    return undefined;
  }
}

/** An id (full, sha256:-prefixed or a unique prefix) or a digest reference, rather than a tag. */
function namesImageItself(name: string, rec: ImageRecord): boolean {
  // a name that is one of the image's tags is a tag, even when it also looks like an id prefix
  const asTag = safeNormalize(name);
  if (asTag !== undefined && rec.repoTags.includes(asTag)) return false;
  const hex = rec.id.slice('sha256:'.length);
  const bare = name.startsWith('sha256:') ? name.slice(7) : name;
  if (/^[a-f0-9]+$/.test(bare) && hex.startsWith(bare)) return true;
  return name.includes('@');
}
