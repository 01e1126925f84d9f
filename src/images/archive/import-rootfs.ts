// docker import: a rootfs tarball (plain or compressed) becomes a one-layer image whose
// config comes from the --change instructions.
import type { Readable } from 'node:stream';
import { applyChanges } from '../changes.js';
import { parsePlatform } from '../distribution/registry-client.js';
import type { Storage } from '../store/storage.js';
import type { ImageConfigFile } from '../types.js';

export interface ImportOptions {
  /** Normalised tag reference to point at the image, if any. */
  ref?: string;
  message?: string;
  changes?: string[];
  platform?: string;
}

export async function importRootfs(storage: Storage, src: Readable, opts: ImportOptions): Promise<{ id: string; replaced?: string }> {
  // Validate the changes before reading a byte, so a typo fails fast and leaves nothing.
  const containerConfig = applyChanges({}, opts.changes ?? []);
  const platform = parsePlatform(opts.platform);
  const ingest = storage.begin();
  try {
    const { digest: blob } = await ingest.writeBlob(src);
    const layer = await ingest.unpackBlob(blob, null);
    const created = new Date().toISOString();
    const config: ImageConfigFile = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, comment: opts.message ?? '' }],
    };
    const configDigest = await ingest.writeBuffer(Buffer.from(JSON.stringify(config)));
    let replaced: string | undefined;
    ingest.commit({ id: configDigest, config, manifestDigest: null, chainIds: [layer.chainId], blobs: [configDigest, blob], size: layer.size }, () => {
      if (opts.ref !== undefined) replaced = storage.store.setRef(opts.ref, configDigest, 'tag');
    });
    return { id: configDigest, replaced };
  } finally {
    await ingest.end();
  }
}
