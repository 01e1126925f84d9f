// API versions: the `/v1.xx` path prefix, the accepted range, and the headers moby's version
// middleware puts on every response (the CLI negotiates from them, so they must never be missing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../errors.js';

export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';
/** The engine version berth reports as Docker's: tools parse it as semver and compare it. */
export const ENGINE_VERSION = '28.2.2';
/** Must match the Go client's `\ADocker/.+\s\((.+)\)\z` (it reads the OS from it). */
export const SERVER_HEADER = `Docker/${ENGINE_VERSION} (linux)`;

/** Header name/value pairs sent with every response, hijacked ones included. */
export const API_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Api-Version', API_VERSION],
  ['Docker-Experimental', 'false'],
  ['Ostype', 'linux'],
  ['Server', SERVER_HEADER],
];

export function setApiHeaders(res: ServerResponse): void {
  for (const [name, value] of API_HEADERS) res.setHeader(name, value);
}

/** The same headers as raw `Name: value\r\n` lines, for responses written straight to a socket. */
export function apiHeaderLines(): string {
  return API_HEADERS.map(([name, value]) => `${name}: ${value}\r\n`).join('');
}

/** Compares dotted versions piece by piece as moby's api/types/versions does (missing or garbage pieces count as 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = Number.parseInt(pa[i] ?? '0', 10) || 0;
    const y = Number.parseInt(pb[i] ?? '0', 10) || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The version check of moby's VersionMiddleware, with its exact messages. */
export function versionError(version: string): InvalidParameterError | undefined {
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    return new InvalidParameterError(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (compareVersions(version, API_VERSION) > 0) {
    return new InvalidParameterError(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  return undefined;
}

const PREFIX = /^\/v([0-9.]+)(\/.*)$/;
const requestVersion = Symbol('berth.apiVersion');
type VersionedRequest = IncomingMessage & { [requestVersion]?: string };

/**
 * Strips a `/v{version}` prefix from the URL, remembering the version on the request.
 * Used as Fastify's rewriteUrl and by the upgrade path, so both route the same way.
 */
export function stripVersionPrefix(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const match = PREFIX.exec(url);
  if (!match) {
    (req as VersionedRequest)[requestVersion] = API_VERSION;
    return url;
  }
  (req as VersionedRequest)[requestVersion] = match[1]!;
  return match[2]!;
}

/** The API version the client asked for ('1.50' when unversioned). */
export function apiVersionOf(request: FastifyRequest | IncomingMessage): string {
  const raw = 'raw' in request ? request.raw : request;
  return (raw as VersionedRequest)[requestVersion] ?? API_VERSION;
}

/** True when the request's API version is at least `version`, e.g. `apiVersionAtLeast(req, '1.42')`. */
export function apiVersionAtLeast(request: FastifyRequest | IncomingMessage, version: string): boolean {
  return compareVersions(apiVersionOf(request), version) >= 0;
}
