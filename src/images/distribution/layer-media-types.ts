// Which layer descriptors a pull accepts. Compression itself is sniffed from the bytes (see
// layers/compression.ts), so any docker or OCI layer type goes; foreign / non-distributable
// layers live outside the registry (Windows base layers, licensed blobs) at URLs that are
// nobody's to trust, so they are refused before anything is fetched, naming the layer.
import { SystemError } from '../../errors.js';
import type { Descriptor } from './registry-client.js';

export const LAYER_MEDIA_TYPES = {
  dockerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociTar: 'application/vnd.oci.image.layer.v1.tar',
  ociGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociForeignPrefix: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
} as const;

export function isForeignLayer(d: Pick<Descriptor, 'mediaType'>): boolean {
  return d.mediaType === LAYER_MEDIA_TYPES.dockerForeign || (typeof d.mediaType === 'string' && d.mediaType.startsWith(LAYER_MEDIA_TYPES.ociForeignPrefix));
}

/** Refuse a layer berth will not fetch; anything else is pulled and its compression sniffed. */
export function checkPullableLayer(d: Descriptor): void {
  if (isForeignLayer(d)) {
    throw new SystemError(`layer ${d.digest} is a foreign (non-distributable) layer of type ${d.mediaType}: berth does not fetch layers from outside the registry`);
  }
  if (d.urls !== undefined && d.urls.length > 0) {
    throw new SystemError(`layer ${d.digest} has foreign URLs, which berth does not fetch`);
  }
}
