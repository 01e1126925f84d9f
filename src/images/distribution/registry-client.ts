// A client for the distribution API v2 (what `docker pull` speaks): ping, manifests (docker
// schema2, OCI, manifest lists and indexes with platform selection), blobs. Auth is anonymous,
// basic, or bearer token from the WWW-Authenticate challenge, with credentials from
// X-Registry-Auth. Loopback registries are plain HTTP, everything else HTTPS, as Docker treats
// 127.0.0.0/8 as insecure.
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { SystemError, UnauthorizedError } from '../../errors.js';
import type { RegistryAuth } from '../types.js';
import { httpSend } from './http-send.js';
import { LIMITS, readAtMost } from '../read-at-most.js';
import { formatPlatform, matchPlatform } from './platform-match.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const MANIFEST_ACCEPT = [MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Registry error answer, formatted like distribution's errcode: 'manifest unknown: manifest unknown'. */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly codes: string[],
    message: string,
  ) {
    super(message);
  }
}

export function defaultPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: 'linux', architecture: arch };
}

export function parsePlatform(s: string | undefined): Platform {
  if (s === undefined || s === '') return defaultPlatform();
  const [os, architecture, variant] = s.toLowerCase().split('/');
  const p: Platform = { os, architecture: architecture ?? defaultPlatform().architecture };
  if (variant !== undefined) p.variant = variant;
  return p;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\](:\d+)?$|:\d+$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function registryBaseUrl(domain: string): string {
  if (domain === 'docker.io' || domain === 'index.docker.io') return 'https://registry-1.docker.io';
  return `${isLoopback(domain) ? 'http' : 'https'}://${domain}`;
}

/** Go's net/http wording for transport errors, which users recognise from docker. */
function transportError(method: string, url: string, err: unknown): SystemError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const cause = e.code !== undefined ? e : e.cause;
  const u = new URL(url);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  let detail: string;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      detail = `dial tcp ${hostPort}: connect: connection refused`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      detail = `dial tcp: lookup ${u.hostname}: no such host`;
      break;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      detail = `dial tcp ${hostPort}: i/o timeout`;
      break;
    case 'EHOSTUNREACH':
      detail = `dial tcp ${hostPort}: connect: no route to host`;
      break;
    case 'ECONNRESET':
      detail = 'read: connection reset by peer';
      break;
    default:
      detail = cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
  const verb = method.charAt(0) + method.slice(1).toLowerCase();
  return new SystemError(`${verb} "${url}": ${detail}`);
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const sp = header.indexOf(' ');
  const scheme = (sp === -1 ? header : header.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header)) !== null) params[m[1].toLowerCase()] = m[2];
  return { scheme, params };
}

async function errorFromResponse(res: Response): Promise<RegistryHttpError> {
  // A body past the limit is shown as the status alone.
  const text = await readAtMost(res, LIMITS.errorBody, 'registry error body')
    .then((b) => b.toString('utf8'))
    .catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: { code: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      const parts = body.errors.map((e) => `${String(e.code).toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`);
      return new RegistryHttpError(res.status, body.errors.map((e) => e.code), parts.join(', '));
    }
  } catch {
    // not a JSON error body
  }
  const fallback = res.status === 404 ? 'not found' : `unexpected status ${res.status} ${res.statusText}`.trim();
  return new RegistryHttpError(res.status, [], text.trim() !== '' && text.length < 200 ? text.trim() : fallback);
}

export class RegistryClient {
  readonly baseUrl: string;
  private authorization: string | undefined;
  private readonly basic: string | undefined;

  constructor(
    readonly domain: string,
    /** Repository path, e.g. 'library/busybox'. */
    readonly repository: string,
    private readonly auth: RegistryAuth = {},
    private readonly signal?: AbortSignal,
  ) {
    this.baseUrl = registryBaseUrl(domain);
    let { username, password } = auth;
    if ((username === undefined || username === '') && auth.auth) {
      const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) [username, password] = [decoded.slice(0, i), decoded.slice(i + 1)];
    }
    if (username) this.basic = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    if (auth.registrytoken) this.authorization = `Bearer ${auth.registrytoken}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, signal = this.signal): Promise<Response> {
    try {
      return await httpSend(method, url, headers, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw transportError(method, url, err);
    }
  }

  /** Send with the current credentials; on a 401 challenge, authenticate once and retry. */
  private async request(method: string, path: string, headers: Record<string, string> = {}, signal = this.signal): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const withAuth = () => (this.authorization ? { ...headers, Authorization: this.authorization } : headers);
    let res = await this.send(method, url, withAuth(), signal);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate');
      await res.body?.cancel();
      if (challenge !== null && (await this.authenticate(challenge))) res = await this.send(method, url, withAuth(), signal);
    }
    return res;
  }

  private async authenticate(header: string): Promise<boolean> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      if (this.basic === undefined || this.authorization === this.basic) return false;
      this.authorization = this.basic;
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const scope = params.scope ?? `repository:${this.repository}:pull`;
    let res: Response;
    const realm = new URL(params.realm);
    if (this.auth.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identitytoken, client_id: 'berth', scope });
      if (params.service) form.set('service', params.service);
      res = await this.tokenRequest(realm.toString(), { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    } else {
      if (params.service) realm.searchParams.set('service', params.service);
      realm.searchParams.set('scope', scope);
      res = await this.tokenRequest(realm.toString(), { method: 'GET', headers: this.basic ? { Authorization: this.basic } : {} });
    }
    if (!res.ok) {
      const e = await errorFromResponse(res);
      throw new UnauthorizedError(`failed to fetch anonymous token: ${e.message}`);
    }
    const raw = await readAtMost(res, LIMITS.token, 'token response');
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      throw new SystemError(`unable to decode token response from ${realm.origin}`);
    }
    const token = typeof body?.token === 'string' ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined;
    if (!token) return false;
    const next = `Bearer ${token}`;
    if (next === this.authorization) return false;
    this.authorization = next;
    return true;
  }

  private async tokenRequest(url: string, init: { method: string; headers: Record<string, string>; body?: URLSearchParams }): Promise<Response> {
    try {
      return await httpSend(init.method, url, init.headers, { body: init.body?.toString(), signal: this.signal });
    } catch (err) {
      if (this.signal?.aborted) throw err;
      throw transportError(init.method, url, err);
    }
  }

  /** GET /v2/: checks the registry answers and primes auth, as docker does first. */
  async ping(): Promise<void> {
    const res = await this.send('GET', `${this.baseUrl}/v2/`, {});
    const challenge = res.headers.get('www-authenticate');
    await res.body?.cancel();
    if (res.status === 401 && challenge !== null && this.authorization === undefined) {
      const { scheme } = parseChallenge(challenge);
      if (scheme === 'basic' && this.basic) this.authorization = this.basic;
    }
  }

  /** Fetch a manifest by tag or digest; verifies the digest when asked by digest. */
  async getManifest(reference: string): Promise<{ mediaType: string; digest: string; body: Buffer }> {
    const res = await this.request('GET', `/v2/${this.repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    if (!res.ok) throw await errorFromResponse(res);
    const at = reference.startsWith('sha256:') ? `@${reference}` : `:${reference}`;
    const body = await readAtMost(res, LIMITS.manifest, `manifest for ${this.domain}/${this.repository}${at}`);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new SystemError(`manifest verification failed for digest ${reference}`);
    }
    let mediaType = res.headers.get('content-type')?.split(';')[0].trim() ?? '';
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
      if (parsed.mediaType) mediaType = parsed.mediaType;
      else if (parsed.manifests !== undefined) mediaType = MEDIA_TYPES.ociIndex;
      else if (parsed.layers !== undefined && !Object.values(MEDIA_TYPES).includes(mediaType as never)) mediaType = MEDIA_TYPES.ociManifest;
    } catch {
      throw new SystemError(`invalid manifest from ${this.domain}/${this.repository}:${reference}`);
    }
    return { mediaType, digest, body };
  }

  /**
   * Resolve a tag or digest to one image manifest, walking a manifest list / index to the
   * entry for `platform`. `digest` is what the user's reference resolved to (list or manifest).
   */
  async resolveImage(reference: string, platform: Platform): Promise<{ digest: string; manifestDigest: string; manifest: ImageManifest; manifestBody: Buffer }> {
    const top = await this.getManifest(reference);
    if (top.mediaType === MEDIA_TYPES.dockerList || top.mediaType === MEDIA_TYPES.ociIndex) {
      const index = JSON.parse(top.body.toString('utf8')) as { manifests: Descriptor[] };
      if (!Array.isArray(index.manifests)) throw new SystemError(`invalid manifest list from ${this.domain}/${this.repository}: no manifests`);
      const match = matchPlatform(index.manifests, platform);
      // moby's own words, a plain error (500) rather than a registry 404
      if (match === undefined) throw new SystemError(`no matching manifest for ${formatPlatform(platform)} in the manifest list entries`);
      const inner = await this.getManifest(match.digest);
      return { digest: top.digest, manifestDigest: inner.digest, manifest: this.checkManifest(inner.mediaType, inner.body), manifestBody: inner.body };
    }
    return { digest: top.digest, manifestDigest: top.digest, manifest: this.checkManifest(top.mediaType, top.body), manifestBody: top.body };
  }

  private checkManifest(mediaType: string, body: Buffer): ImageManifest {
    if (mediaType !== MEDIA_TYPES.dockerManifest && mediaType !== MEDIA_TYPES.ociManifest) {
      throw new SystemError(`unsupported manifest media type ${mediaType || '(none)'}: berth pulls docker schema2 and OCI images`);
    }
    const m = JSON.parse(body.toString('utf8')) as ImageManifest;
    if (!m.config || !Array.isArray(m.layers)) throw new SystemError('invalid image manifest: no config or layers');
    return m;
  }

  /** Stream a blob (redirects to storage backends are followed). */
  async getBlob(digest: string): Promise<Readable> {
    const res = await this.request('GET', `/v2/${this.repository}/blobs/${digest}`);
    if (!res.ok || res.body === null) throw await errorFromResponse(res);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  /**
   * A blob from byte `offset` on (an HTTP Range), under `signal` rather than the client's own
   * (a download shared by several pulls outlives the pull that started it). `offset` in the
   * answer is where the body starts: 0 when the registry sent the whole blob.
   */
  async getBlobFrom(digest: string, offset: number, signal?: AbortSignal): Promise<{ body: Readable; offset: number }> {
    const path = `/v2/${this.repository}/blobs/${digest}`;
    let res = await this.request('GET', path, offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal);
    let from = 0;
    if (offset > 0 && res.status === 206) {
      const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (m !== null && Number(m[1]) === offset) from = offset;
      else {
        await res.body?.cancel();
        res = await this.request('GET', path, {}, signal);
      }
    } else if (offset > 0 && res.status === 416) {
      await res.body?.cancel();
      res = await this.request('GET', path, {}, signal);
    }
    if (!res.ok || (res.status === 206 && from === 0) || res.body === null) throw await errorFromResponse(res);
    return { body: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), offset: from };
  }
}
