// docker commit on the images side: a new image = the parent image's layers + one layer (the
// container's changes, as a tar), with the config and history entry the engine worked out.
import type { Readable } from 'node:stream';
import type { Storage } from './store/storage.js';
import type { ImageConfigFile, ImageContainerConfig, ImageRecord } from './types.js';

export interface CommitOptions {
  /** Normalised tag reference for the new image, if any. */
  ref?: string;
  config: ImageContainerConfig;
  author?: string;
  comment?: string;
  /** The container's command line, for the history entry (as moby's CreatedBy). */
  createdBy?: string;
}

export async function commitImage(storage: Storage, parent: ImageRecord, layerTar: Readable, opts: CommitOptions): Promise<{ id: string }> {
  const parentChains = storage.store.chainIdsOf(parent.id);
  const ingest = storage.begin();
  try {
    const { digest: blob } = await ingest.writeBlob(layerTar);
    const layer = await ingest.unpackBlob(blob, parentChains.at(-1) ?? null);
    const created = new Date().toISOString();
    const config: ImageConfigFile = {
      architecture: parent.config.architecture,
      os: parent.config.os,
      ...(parent.config.variant ? { variant: parent.config.variant } : {}),
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: [...parent.config.rootfs.diff_ids, layer.diffId] },
      history: [
        ...(parent.config.history ?? []),
        { created, ...(opts.author ? { author: opts.author } : {}), ...(opts.createdBy ? { created_by: opts.createdBy } : {}), comment: opts.comment ?? '' },
      ],
    };
    const configDigest = await ingest.writeBuffer(Buffer.from(JSON.stringify(config)));
    ingest.commit(
      {
        id: configDigest,
        config,
        manifestDigest: null,
        chainIds: [...parentChains, layer.chainId],
        // the parent's blobs stay alive with this image too (its layers are this image's)
        blobs: [...new Set([configDigest, blob, ...storage.store.blobsOf(parent.id)])],
        size: parent.size + layer.size,
        parent: parent.id,
      },
      () => {
        if (opts.ref !== undefined) storage.store.setRef(opts.ref, configDigest, 'tag');
      },
    );
    return { id: configDigest };
  } finally {
    await ingest.end();
  }
}
