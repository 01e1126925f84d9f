// ADD <http(s) URL>: moby's downloadSource. The body is streamed to a file of its own (mode 0600,
// never unpacked), named from the URL's path or else the Content-Disposition header, its mtime
// taken from Last-Modified (the Unix epoch without one: Go's zero time, clamped). Failures say
// what Go's http.Get and moby's GetWithStatusError say.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ForbiddenError, InvalidParameterError, NotFoundError, SystemError, UnauthorizedError } from '../../../errors.js';

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

/** moby's getFilenameForDownload. */
export function filenameFor(url: URL, contentDisposition: string | null): string {
  const path = decodeURIComponentSafe(url.pathname);
  if (path !== '' && !path.endsWith('/')) return posix.basename(path);
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

async function statusError(url: string, res: Response): Promise<Error> {
  let body = '';
  try {
    const reader = res.body?.getReader();
    const chunks: Uint8Array[] = [];
    let len = 0;
    while (reader && len < MAX_ERROR_BODY) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      len += r.value.length;
    }
    await reader?.cancel().catch(() => undefined);
    body = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8').trim();
  } catch {
    return new SystemError(`failed to GET ${url} with status ${res.status} ${res.statusText}: error reading body`);
  }
  const msg = `failed to GET ${url} with status ${res.status} ${res.statusText}: ${body}`;
  switch (res.status) {
    case 404: return new NotFoundError(msg);
    case 400: return new InvalidParameterError(msg);
    case 401: return new UnauthorizedError(msg);
    case 403: return new ForbiddenError(msg);
    default: return new SystemError(msg);
  }
}

/** Downloads `source` into a new directory under `scratch`. */
export async function download(source: string, scratch: string, signal?: AbortSignal): Promise<Download> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new InvalidParameterError(`parse "${source}": invalid URL`);
  }
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw dialError(url, err);
  }
  if (res.status >= 400) throw await statusError(source, res);
  const filename = filenameFor(url, res.headers.get('content-disposition'));
  const dir = await mkdtemp(join(scratch, 'berth-add-'));
  try {
    const path = join(dir, filename || UNNAMED);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const body = res.body ? Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
    try {
      await pipeline(body, tap, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw dialError(url, err);
    }
    const lastModified = res.headers.get('last-modified');
    const parsed = lastModified ? new Date(lastModified) : null;
    const mtime = parsed && !Number.isNaN(parsed.getTime()) && parsed.getTime() >= 0 ? parsed : new Date(0);
    await utimes(path, mtime, mtime);
    return { dir, path, filename, size, mtime, contentHex: hash.digest('hex') };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
