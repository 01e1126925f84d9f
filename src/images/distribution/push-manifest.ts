// The manifest a push puts: Docker's schema2 bytes exactly as docker/distribution marshals them
// (schema2.FromStruct: json.MarshalIndent with three spaces, fields in the Go structs' order,
// no trailing newline), so the digest is the one dockerd would compute for the same layers.
// An image that still has the manifest it came with, naming the same blobs, keeps it as is.
import { MEDIA_TYPES, type Descriptor } from './registry-client.js';
import { sha256Digest } from '../store/content-store.js';

export interface BlobRef {
  digest: string;
  size: number;
}

export interface BuiltManifest {
  mediaType: string;
  body: Buffer;
  digest: string;
}

/** Go's encoding/json escapes these in strings; JSON.stringify does not. */
function goJsonEscape(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** distribution.Descriptor's field order: mediaType, size, digest. */
function descriptor(mediaType: string, b: BlobRef): { mediaType: string; size: number; digest: string } {
  return { mediaType, size: b.size, digest: b.digest };
}

/**
 * `storedTypes` are the local blobs' media types: plain and gzip layers are pushed gzipped; a
 * zstd one (loaded from an OCI layout) keeps its OCI type, which schema2 has no name for.
 */
export function schema2Manifest(config: BlobRef, layers: BlobRef[], storedTypes: string[] = []): BuiltManifest {
  const m = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.dockerManifest,
    config: descriptor(MEDIA_TYPES.dockerConfig, config),
    layers: layers.map((l, i) => descriptor(storedTypes[i] === MEDIA_TYPES.ociLayerZstd ? MEDIA_TYPES.ociLayerZstd : MEDIA_TYPES.dockerLayerGzip, l)),
  };
  const body = Buffer.from(goJsonEscape(JSON.stringify(m, null, 3)), 'utf8');
  return { mediaType: MEDIA_TYPES.dockerManifest, body, digest: sha256Digest(body) };
}

/**
 * The image's own manifest, when it names exactly this config and these layer blobs: what was
 * pulled (or loaded) goes back byte for byte, so its digest does not change.
 */
export function reusableManifest(body: Buffer, config: BlobRef, layers: BlobRef[]): BuiltManifest | undefined {
  let m: { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: unknown };
  try {
    m = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!m || m.manifests !== undefined || !m.config || !Array.isArray(m.layers)) return undefined;
  const mediaType = m.mediaType ?? MEDIA_TYPES.ociManifest;
  if (mediaType !== MEDIA_TYPES.dockerManifest && mediaType !== MEDIA_TYPES.ociManifest) return undefined;
  if (m.config.digest !== config.digest || m.config.size !== config.size || m.layers.length !== layers.length) return undefined;
  if (!m.layers.every((l, i) => l?.digest === layers[i].digest && l.size === layers[i].size && !l.urls?.length)) return undefined;
  return { mediaType, body, digest: sha256Digest(body) };
}
