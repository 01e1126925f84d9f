// Requests to the daemon's Docker API over its unix socket.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';

export const API_VERSION = '1.50';
export const DEFAULT_SOCKET = '/run/berth/berth.sock';

/** The daemon answered with an error status; `message` is its {"message"} text. */
export class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/** The daemon could not be reached at all. */
export class ConnectError extends Error {
  override name = 'ConnectError';
}

/** `-H unix://PATH` wins, then DOCKER_HOST when it is unix://, then the default socket. */
export function resolveSocketPath(hostFlag: string | undefined, env: NodeJS.ProcessEnv): string {
  for (const host of [hostFlag, env['DOCKER_HOST']]) {
    if (!host) continue;
    if (host.startsWith('unix://')) return host.slice('unix://'.length);
    if (host === hostFlag) throw new ConnectError(`unsupported host ${JSON.stringify(host)}: only unix:// sockets are supported`);
  }
  return DEFAULT_SOCKET;
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: OutgoingHttpHeaders;
}

export class ApiClient {
  constructor(readonly socketPath: string) {}

  /** Sends a request and resolves with the response once its status is a success; errors become DaemonError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, opts);
    if (res.statusCode !== undefined && res.statusCode >= 400) throw await errorFrom(res);
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await readBody(res);
    return (text.length === 0 ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request and discards the body, e.g. 204 and 304 answers. Returns the status. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<number> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    return res.statusCode ?? 0;
  }

  /**
   * Sends `body` as the request body, streamed (chunked), and resolves with the response once
   * its status is a success; errors become DaemonError. A daemon may answer before it has read
   * the whole body (a refusal): the answer wins over the broken upload.
   */
  upload(method: string, path: string, body: Readable, opts: Omit<RequestOptions, 'body'> = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { Host: 'api.moby.localhost', 'Content-Type': 'application/x-tar', ...opts.headers };
      const req = httpRequest({ socketPath: this.socketPath, method, path: this.url(path, opts.query), headers }, (res) => {
        // a success may come while the body is still going up (the daemon streams its output)
        if (res.statusCode !== undefined && res.statusCode >= 400) {
          body.unpipe(req);
          errorFrom(res).then(reject, reject);
        } else resolve(res);
      });
      let answered = false;
      req.on('response', () => (answered = true));
      req.on('error', (err) => {
        if (!answered) reject(connectError(this.socketPath, err));
      });
      body.on('error', (err) => {
        req.destroy(err);
        reject(err);
      });
      body.pipe(req);
    });
  }

  /** An upgraded (hijacked) connection as for attach: resolves with the raw socket after 101. */
  upgrade(method: string, path: string, opts: RequestOptions = {}): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        socketPath: this.socketPath,
        method,
        path: this.url(path, opts.query),
        headers: { Host: 'api.moby.localhost', 'Content-Type': 'text/plain', Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        // No upgrade: either an error or a server that streams without hijacking.
        if (res.statusCode !== undefined && res.statusCode >= 400) errorFrom(res).then(reject, reject);
        else reject(new DaemonError(res.statusCode ?? 0, `unexpected answer to attach: ${res.statusCode}`));
      });
      req.on('error', (err) => reject(connectError(this.socketPath, err)));
      req.end();
    });
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const headers: OutgoingHttpHeaders = { Host: 'api.moby.localhost', ...opts.headers };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const req = httpRequest({ socketPath: this.socketPath, method, path: this.url(path, opts.query), headers }, resolve);
      req.on('error', (err) => reject(connectError(this.socketPath, err)));
      req.end(payload);
    });
  }

  private url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === false) continue;
      if (Array.isArray(value)) for (const v of value) params.append(key, v);
      else params.set(key, value === true ? '1' : String(value));
    }
    const qs = params.toString();
    return `/v${API_VERSION}${path}${qs ? `?${qs}` : ''}`;
  }
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Docker puts the text in {"message"}; anything else is shown as it came. */
export function errorMessageFromBody(body: string, statusCode: number): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  const text = body.trim();
  return text.length > 0 ? text : `request failed with status ${statusCode}`;
}

async function errorFrom(res: IncomingMessage): Promise<DaemonError> {
  const status = res.statusCode ?? 500;
  return new DaemonError(status, errorMessageFromBody(await readBody(res), status));
}

function connectError(socketPath: string, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
    return new ConnectError(`Cannot connect to the berth daemon at unix://${socketPath}. Is the berth daemon running?`);
  }
  return err;
}
