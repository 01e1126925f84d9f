// A client for the distribution API v2 (what `docker pull` speaks): ping, manifests (docker
// schema2, OCI, manifest lists and indexes with platform selection), blobs. Auth is anonymous,
// basic, or bearer token from the WWW-Authenticate challenge (moby's token handler: basic
// credentials on a GET to the realm, or an identity token as an OAuth2 refresh grant), with
// credentials from X-Registry-Auth. Which URL it speaks to is the caller's choice of endpoint
// (registry-config.ts); without one, loopback registries are plain HTTP and others HTTPS.
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { SystemError, UnauthorizedError } from '../../errors.js';
import type { RegistryAuth } from '../types.js';
import { httpSend, nodeBody, type HttpBody } from './http-send.js';
import type { RegistryEndpoint } from './registry-config.js';
import { STATUS_CODES } from 'node:http';
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
    /** The first error alone ('denied: requested access to the resource is denied'), as moby quotes it. */
    readonly firstMessage = message,
  ) {
    super(message);
  }
}

/** RFC 6750's error in a bearer challenge, which distribution's client reads before the body. */
function challengeError(res: Response): { code: string; text: string } | undefined {
  const header = res.headers.get('www-authenticate');
  if (header === null) return undefined;
  const { scheme, params } = parseChallenge(header);
  if (scheme !== 'bearer') return undefined;
  if (params.error === 'invalid_token') return { code: 'UNAUTHORIZED', text: `unauthorized: ${params.error_description || 'authentication required'}` };
  if (params.error === 'insufficient_scope') return { code: 'DENIED', text: `denied: ${params.error_description || 'requested access to the resource is denied'}` };
  return undefined;
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
    // HTTPS to a plain-HTTP registry: Go's client recognises the answer
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      detail = 'http: server gave HTTP response to HTTPS client';
      break;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      detail = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
      break;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      detail = 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
      break;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      detail = `tls: failed to verify certificate: x509: certificate is not valid for ${u.hostname}`;
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

export async function errorFromResponse(res: Response): Promise<RegistryHttpError> {
  // A body past the limit is shown as the status alone.
  const text = await readAtMost(res, LIMITS.errorBody, 'registry error body')
    .then((b) => b.toString('utf8'))
    .catch(() => '');
  const fromChallenge = res.status >= 400 && res.status < 500 ? challengeError(res) : undefined;
  const codes = fromChallenge ? [fromChallenge.code] : [];
  const parts = fromChallenge ? [fromChallenge.text] : [];
  try {
    const body = JSON.parse(text) as { errors?: { code: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      codes.push(...body.errors.map((e) => e.code));
      parts.push(...body.errors.map((e) => `${String(e.code).toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`));
    }
  } catch {
    // not a JSON error body
  }
  if (parts.length > 0) return new RegistryHttpError(res.status, codes, parts.join(', '), parts[0]);
  const fallback = res.status === 404 ? 'not found' : `unexpected status ${res.status} ${res.statusText}`.trim();
  return new RegistryHttpError(res.status, [], text.trim() !== '' && text.length < 200 ? text.trim() : fallback);
}

export interface RegistryClientOptions {
  /** Where to send requests (registry-config.ts); default: registryBaseUrl(domain). */
  endpoint?: RegistryEndpoint;
  /**
   * The repository actions a bearer token is asked for, e.g. ['pull', 'push'] (moby's fixed
   * scopes); default: the scope the registry's challenge names, else pull.
   */
  actions?: string[];
}

/** moby's registry.AuthClientID: token servers see `client_id=docker`. */
export const AUTH_CLIENT_ID = 'docker';

/** A token server's refusal, worded as moby's client.HandleErrorResponse. */
export class TokenFetchError extends Error {
  constructor(
    message: string,
    readonly unauthorized: boolean,
  ) {
    super(message);
  }
}

/** distribution's errcode names for a status without an error body of its own (makeError). */
function errcodeFor(status: number): string {
  return status === 401 ? 'unauthorized' : status === 403 ? 'denied' : status === 429 ? 'toomanyrequests' : 'unknown';
}

export async function tokenFetchError(res: Response): Promise<TokenFetchError> {
  const text = await readAtMost(res, LIMITS.errorBody, 'token error body')
    .then((b) => b.toString('utf8'))
    .catch(() => '');
  if (res.status < 400 || res.status >= 500) return new TokenFetchError(`received unexpected HTTP status: ${res.status} ${res.statusText}`.trim(), false);
  const contentType = res.headers.get('content-type')?.split(';')[0].trim();
  if (contentType !== 'application/json' && contentType !== 'application/vnd.api+json') {
    return new TokenFetchError(`${errcodeFor(res.status)}: ${text}`, res.status === 401);
  }
  let body: { details?: unknown; errors?: { code?: unknown; message?: unknown }[] } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (typeof body?.details === 'string' && body.details !== '') return new TokenFetchError(`${errcodeFor(res.status)}: ${body.details}`, res.status === 401);
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    const parts = body.errors.map((e) => `${String(e?.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')}: ${String(e?.message ?? '')}`);
    // moby words several as errcode.Errors does, and only a single one can be 'unauthorized' to it
    const single = parts.length === 1;
    return new TokenFetchError(single ? parts[0] : `errors:\n${parts.join('\n')}\n`, single && String(body.errors[0]?.code).toUpperCase() === 'UNAUTHORIZED');
  }
  if (res.status === 401) return new TokenFetchError('unauthorized: authentication required', true);
  return new TokenFetchError(`error parsing HTTP ${res.status} response body: no error details found in HTTP response body: ${JSON.stringify(text)}`, false);
}

export class RegistryClient {
  readonly baseUrl: string;
  private authorization: string | undefined;
  private readonly basic: string | undefined;
  private readonly username: string | undefined;
  private readonly skipTlsVerify: boolean;
  private readonly actions: string[] | undefined;
  /** Login asks the token server for a refresh token (moby's OfflineAccess) and no repository scope. */
  private loginMode = false;
  private refreshToken: string | undefined;

  constructor(
    readonly domain: string,
    /** Repository path, e.g. 'library/busybox'. */
    readonly repository: string,
    private readonly auth: RegistryAuth = {},
    private readonly signal?: AbortSignal,
    opts: RegistryClientOptions = {},
  ) {
    this.baseUrl = opts.endpoint?.url ?? registryBaseUrl(domain);
    this.skipTlsVerify = opts.endpoint?.skipTlsVerify ?? false;
    this.actions = opts.actions;
    let { username, password } = auth;
    if ((username === undefined || username === '') && auth.auth) {
      const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) [username, password] = [decoded.slice(0, i), decoded.slice(i + 1)];
    }
    // moby's handlers use basic credentials only when both halves are there
    if (username && password) {
      this.username = username;
      this.basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    if (auth.registrytoken) this.authorization = `Bearer ${auth.registrytoken}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, signal = this.signal, body?: HttpBody): Promise<Response> {
    try {
      return await httpSend(method, url, headers, { body, signal, skipTlsVerify: this.skipTlsVerify });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw transportError(method, url, err);
    }
  }

  /**
   * Send with the current credentials; on a 401 challenge, authenticate once and retry (the
   * first answer, body kept, when there is nothing to retry with). `shownMethod`: the verb an
   * auth failure names, where moby sends another first (it resolves a tag with a HEAD).
   * `path` is a path on the registry or an absolute URL (an upload's Location). A streamed
   * `body` cannot be sent twice, so its 401 is the answer: uploads stream only after the POST
   * that opened them has settled the token.
   */
  private async request(method: string, path: string, headers: Record<string, string> = {}, signal = this.signal, shownMethod = method, body?: HttpBody): Promise<Response> {
    const url = /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
    const withAuth = () => (this.authorization ? { ...headers, Authorization: this.authorization } : headers);
    let res = await this.send(method, url, withAuth(), signal, body);
    const challenge = res.headers.get('www-authenticate');
    if (res.status === 401 && challenge !== null && !(body instanceof Readable)) {
      const first401 = await readAtMost(res, LIMITS.errorBody, 'registry error body').catch(() => Buffer.alloc(0));
      const first = new Response(first401.length > 0 ? new Uint8Array(first401) : null, { status: res.status, statusText: res.statusText, headers: res.headers });
      // moby's token handler adds pull on a mount's source repository to the token it asks for
      const from = new URL(url).searchParams.get('from');
      const extra = from ? [`repository:${from}:pull`] : [];
      res = (await this.authenticateFor(shownMethod, url, challenge, signal, extra)) ? await this.send(method, url, withAuth(), signal, body) : first;
    }
    return res;
  }

  /** The push side's requests (blob-upload.ts, push.ts): `target` is a registry path or an upload's Location. */
  async call(method: string, target: string, headers: Record<string, string> = {}, body?: HttpBody): Promise<Response> {
    return this.request(method, target, headers, this.signal, method, body);
  }

  /** authenticate(), its failures worded as Go's client reports them for the request they held up. */
  private async authenticateFor(method: string, url: string, challenge: string, signal = this.signal, extraScopes: string[] = []): Promise<boolean> {
    try {
      return await this.authenticate(challenge, signal, extraScopes);
    } catch (err) {
      if (!(err instanceof TokenFetchError)) throw err;
      const verb = method.charAt(0) + method.slice(1).toLowerCase();
      const message = `${verb} "${url}": ${err.message}`;
      // only login words a refusal as a 401 (moby's translateV2AuthError); a pull's is a 500
      throw err.unauthorized && this.loginMode ? new UnauthorizedError(message) : new SystemError(message);
    }
  }

  private async authenticate(header: string, signal = this.signal, extraScopes: string[] = []): Promise<boolean> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      // moby's basic handler refuses to send the request at all
      if (this.basic === undefined) throw new TokenFetchError('no basic auth credentials', false);
      if (this.authorization === this.basic) return false;
      this.authorization = this.basic;
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const scopes = this.loginMode ? [] : [this.actions ? `repository:${this.repository}:${this.actions.join(',')}` : (params.scope ?? `repository:${this.repository}:pull`)];
    for (const s of extraScopes) if (!scopes.includes(s)) scopes.push(s);
    let res: Response;
    let realm: URL;
    try {
      realm = new URL(params.realm);
    } catch {
      throw new TokenFetchError(`invalid token auth challenge realm: parse "${params.realm}": invalid URI for request`, false);
    }
    const identityToken = this.auth.identitytoken;
    if (identityToken) {
      const form = new URLSearchParams({ scope: scopes.join(' '), service: params.service ?? '', client_id: AUTH_CLIENT_ID, grant_type: 'refresh_token', refresh_token: identityToken });
      res = await this.tokenRequest(realm.toString(), { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, signal);
    } else {
      if (params.service) realm.searchParams.append('service', params.service);
      for (const scope of scopes) realm.searchParams.append('scope', scope);
      if (this.loginMode) {
        realm.searchParams.append('offline_token', 'true');
        realm.searchParams.append('client_id', AUTH_CLIENT_ID);
      }
      if (this.username !== undefined) realm.searchParams.append('account', this.username);
      res = await this.tokenRequest(realm.toString(), { method: 'GET', headers: this.basic ? { Authorization: this.basic } : {} }, signal);
    }
    if (!(res.status >= 200 && res.status <= 399)) throw await tokenFetchError(res);
    const raw = await readAtMost(res, LIMITS.token, 'token response');
    let body: { token?: unknown; access_token?: unknown; refresh_token?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      throw new SystemError(`unable to decode token response from ${realm.origin}`);
    }
    if (typeof body?.refresh_token === 'string' && body.refresh_token !== '' && body.refresh_token !== identityToken) this.refreshToken = body.refresh_token;
    const token = typeof body?.access_token === 'string' && body.access_token !== '' ? body.access_token : typeof body?.token === 'string' ? body.token : undefined;
    if (!token) {
      if (identityToken) return false;
      throw new TokenFetchError('authorization server did not include a token in the response', false);
    }
    const next = `Bearer ${token}`;
    if (next === this.authorization) return false;
    this.authorization = next;
    return true;
  }

  private async tokenRequest(url: string, init: { method: string; headers: Record<string, string>; body?: URLSearchParams }, signal = this.signal): Promise<Response> {
    try {
      return await httpSend(init.method, url, init.headers, { body: init.body?.toString(), signal, skipTlsVerify: this.skipTlsVerify });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw transportError(init.method, url, err);
    }
  }

  /**
   * docker login's check (moby's loginV2): GET /v2/, answer its challenge with the credentials
   * (a bearer token asked with offline_token=true and client_id=docker, no scope), then GET /v2/
   * again, which must be a 200. Returns the identity token: the token server's refresh token,
   * or the one the credentials came with. Go's client gives each attempt 15 s.
   */
  async login(): Promise<string | undefined> {
    this.loginMode = true;
    const timeout = AbortSignal.timeout(15_000);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    const url = `${this.baseUrl}/v2/`;
    let res: Response;
    try {
      res = await this.send('GET', url, {}, signal);
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        if (challenge !== null && (await this.authenticateFor('GET', url, challenge, signal))) {
          res = await this.send('GET', url, this.authorization ? { Authorization: this.authorization } : {}, signal);
        }
      }
      await res.body?.cancel();
    } catch (err) {
      if (timeout.aborted && !this.signal?.aborted) throw new SystemError(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
      throw err;
    }
    if (res.status !== 200) throw new SystemError(`login attempt to ${url} failed with status: ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd());
    return this.refreshToken ?? this.auth.identitytoken ?? undefined;
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
    const byDigest = reference.startsWith('sha256:');
    const res = await this.request('GET', `/v2/${this.repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, this.signal, byDigest ? 'GET' : 'HEAD');
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
    return { body: nodeBody(res) ?? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), offset: from };
  }
}
