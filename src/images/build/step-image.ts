// A build step's image: the image the step ran on plus, for RUN/COPY/ADD/WORKDIR, the layer of
// the step container's changes, and one history line. As moby's NewChildImage, a step that
// changed nothing adds no layer, only a history entry marked empty_layer, and every step's
// image names the image it was made from (parent): the layer cache finds steps by it.
import type { Readable } from 'node:stream';
import type { Storage } from '../store/storage.js';
import type { ImageConfigFile, ImageContainerConfig, ImageRecord } from '../types.js';

/** sha256 of an empty tar (two zero blocks): a step that changed nothing. */
const EMPTY_TAR_DIGEST = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface StepImageOptions {
  config: ImageContainerConfig;
  /** The history line (moby: the step's Cmd joined, e.g. `/bin/sh -c #(nop)  ENV A=b`). */
  createdBy: string;
  /** MAINTAINER's name. */
  author?: string;
  /** The config's os/architecture when there is no parent (FROM scratch). */
  platform?: { os: string; architecture: string; variant?: string };
}

/** The step's image; `parent` undefined means scratch. */
export async function createStepImage(storage: Storage, parent: ImageRecord | undefined, layerTar: Readable | null, opts: StepImageOptions): Promise<ImageRecord> {
  const parentChains = parent ? storage.store.chainIdsOf(parent.id) : [];
  const ingest = storage.begin();
  try {
    for (const c of parentChains) ingest.hold(c);
    let layer: { chainId: string; diffId: string; size: number; blob: string } | undefined;
    if (layerTar !== null) {
      const { digest: blob } = await ingest.writeBlob(layerTar);
      if (blob !== EMPTY_TAR_DIGEST) layer = { ...(await ingest.unpackBlob(blob, parentChains.at(-1) ?? null)), blob };
    }
    const created = new Date().toISOString();
    const base = parent?.config;
    const config: ImageConfigFile = {
      architecture: base?.architecture ?? opts.platform?.architecture ?? 'amd64',
      os: base?.os ?? opts.platform?.os ?? 'linux',
      ...((base?.variant ?? opts.platform?.variant) ? { variant: base?.variant ?? opts.platform?.variant } : {}),
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), ...(layer ? [layer.diffId] : [])] },
      history: [...(base?.history ?? []), { created, ...(opts.author ? { author: opts.author } : {}), created_by: opts.createdBy, ...(layer ? {} : { empty_layer: true }) }],
    };
    const configDigest = await ingest.writeBuffer(Buffer.from(JSON.stringify(config)));
    const parentBlobs = parent ? storage.store.blobsOf(parent.id) : [];
    ingest.commit({
      id: configDigest,
      config,
      manifestDigest: null,
      chainIds: [...parentChains, ...(layer ? [layer.chainId] : [])],
      blobs: [...new Set([configDigest, ...(layer ? [layer.blob] : []), ...parentBlobs])],
      size: (parent?.size ?? 0) + (layer?.size ?? 0),
      ...(parent ? { parent: parent.id } : {}),
    });
    return storage.store.get(configDigest)!;
  } finally {
    await ingest.end();
  }
}
