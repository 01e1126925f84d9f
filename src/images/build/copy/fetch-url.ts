// ADD <http(s) URL>: moby's downloadSource. The body is streamed to a file of its own (mode 0600,
// never unpacked), named from the URL's path or else the Content-Disposition header, its mtime
// taken from Last-Modified (the Unix epoch without one: Go's zero time, clamped). Failures say
// what Go's http.Get and moby's GetWithStatusError say.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { STATUS_CODES, get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ForbiddenError, InvalidParameterError, NotFoundError, SystemError, UnauthorizedError } from '../../../errors.js';
import { throttledProgress } from '../../progress.js';
import type { ProgressFn } from '../../types.js';

export const UNNAMED = '__unnamed__';

export interface Download {
  /** The host directory holding the file; removed by the plan's release(). */
  dir: string;
  /** The file's host path. */
  path: string;
  /** The name Docker derives ('' when it cannot: the copy then needs a dest that names the file). */
  filename: string;
  size: number;
  mtime: Date;
  contentHex: string;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//.test(source);
}

/**
 * moby's getFilenameForDownload: the last element of the URL's decoded path, else the
 * Content-Disposition's filename. An escaped `..` (`a%2f..`, `%2e%2e` after an escaped slash)
 * or `.` names no file: moby would create `<tmp>/..` (and fail on the directory) and copy to
 * `<dest>/..`; here it counts as no name, as an empty one does.
 */
export function filenameFor(url: URL, contentDisposition: string | null): string {
  const path = decodeURIComponentSafe(url.pathname);
  if (path !== '' && !path.endsWith('/')) {
    const base = posix.basename(path);
    if (base !== '.' && base !== '..') return base;
  }
  if (contentDisposition) {
    const m = /(?:^|;)\s*filename\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentDisposition);
    const name = m ? (m[1] ?? m[2] ?? '') : '';
    if (name !== '' && !name.endsWith('/')) {
      const base = posix.basename(name);
      if (base !== '' && base !== '.' && base !== '..') return base;
    }
  }
  return '';
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Go's wording of a failed dial, from Node's error codes. */
function dialError(url: URL, err: unknown): Error {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const code = cause?.code;
  const what =
    code === 'ECONNREFUSED' ? `dial tcp ${hostPort}: connect: connection refused`
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `dial tcp: lookup ${host}: no such host`
    : code === 'ETIMEDOUT' ? `dial tcp ${hostPort}: i/o timeout`
    : code === 'ECONNRESET' ? `read tcp ${hostPort}: connection reset by peer`
    : code === 'EHOSTUNREACH' ? `dial tcp ${hostPort}: connect: no route to host`
    : code === 'ENETUNREACH' ? `dial tcp ${hostPort}: connect: network is unreachable`
    : (cause?.message ?? String(err));
  const message = `Get "${url.href}": ${what}`;
  return code === 'ENOTFOUND' ? new NotFoundError(message) : new SystemError(message);
}

const MAX_ERROR_BODY = 4096;
const MAX_REDIRECTS = 10;

async function statusError(url: string, res: IncomingMessage): Promise<Error> {
  const status = `${res.statusCode} ${res.statusMessage ?? STATUS_CODES[res.statusCode ?? 0] ?? ''}`.trim();
  let body = '';
  try {
    const chunks: Buffer[] = [];
    let len = 0;
    for await (const chunk of res) {
      chunks.push(chunk as Buffer);
      len += (chunk as Buffer).length;
      if (len >= MAX_ERROR_BODY) break;
    }
    res.destroy();
    body = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8').trim();
  } catch {
    return new SystemError(`failed to GET ${url} with status ${status}: error reading body`);
  }
  const msg = `failed to GET ${url} with status ${status}: ${body}`;
  switch (res.statusCode) {
    case 404: return new NotFoundError(msg);
    case 400: return new InvalidParameterError(msg);
    case 401: return new UnauthorizedError(msg);
    case 403: return new ForbiddenError(msg);
    default: return new SystemError(msg);
  }
}

function getOnce(url: URL, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const rq = get(url, { signal, agent: false, headers: { 'User-Agent': 'berth' } }, resolve);
    rq.on('error', reject);
  });
}

/** Go's http.Get: redirects followed, ten at most; the response of the last request. */
async function getFollowing(url: URL, signal?: AbortSignal): Promise<{ res: IncomingMessage; url: URL }> {
  let at = url;
  for (let hops = 0; ; hops++) {
    let res: IncomingMessage;
    try {
      res = await getOnce(at, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw dialError(at, err);
    }
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || !location) return { res, url: at };
    res.resume();
    if (hops + 1 >= MAX_REDIRECTS) throw new SystemError(`Get "${url.href}": stopped after ${MAX_REDIRECTS} redirects`);
    at = new URL(location, at);
    if (at.protocol !== 'http:' && at.protocol !== 'https:') throw new SystemError(`Get "${at.href}": unsupported protocol scheme "${at.protocol.replace(/:$/, '')}"`);
  }
}

/** Downloads `source` into a new directory under `scratch`. */
export async function download(source: string, scratch: string, signal?: AbortSignal, progress?: ProgressFn): Promise<Download> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new InvalidParameterError(`parse "${source}": invalid URL`);
  }
  const { res } = await getFollowing(url, signal);
  if ((res.statusCode ?? 0) >= 400) throw await statusError(source, res);
  const disposition = res.headers['content-disposition'];
  const filename = filenameFor(url, typeof disposition === 'string' ? disposition : null);
  const dir = await mkdtemp(join(scratch, 'berth-add-'));
  try {
    const path = join(dir, filename || UNNAMED);
    const hash = createHash('sha256');
    let size = 0;
    // moby's progress reader: no id, the Content-Length as total (-1 when the server gives none)
    const length = Number(res.headers['content-length'] ?? -1);
    const report = progress
      ? throttledProgress((m) => progress({ ...m, id: undefined }), 'Downloading', '', Number.isSafeInteger(length) ? length : -1)
      : undefined;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        report?.(size);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(res, tap, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw dialError(url, err);
    }
    const lastModified = res.headers['last-modified'];
    const parsed = lastModified ? new Date(lastModified) : null;
    const mtime = parsed && !Number.isNaN(parsed.getTime()) && parsed.getTime() >= 0 ? parsed : new Date(0);
    await utimes(path, mtime, mtime);
    progress?.({ stream: '\n' });
    return { dir, path, filename, size, mtime, contentHex: hash.digest('hex') };
  } catch (err) {
    res.destroy();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
