// ImageService RPCs over the engine's one image store (the store `docker images` shows).
import { join } from 'node:path';
import type { CriContext } from '../context.js';
import type { ImageHandlers } from '../handler-types.js';
import { ImageFsUsage } from './fs-usage.js';

export function imageHandlers(ctx: CriContext): ImageHandlers {
  const dataRoot = ctx.engine.config.dataRoot;
  const usage = new ImageFsUsage([join(dataRoot, 'content'), join(dataRoot, 'snapshots', 'layers')]);
  return {
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
