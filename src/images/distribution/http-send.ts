// HTTP(S) requests with node:http rather than global fetch: fetch refuses the "bad ports" of
// the Fetch spec (1, 6000, ...), which a registry on 127.0.0.1 may well use. Answers are
// returned as web Responses so callers can stream or parse them alike.
import http from 'node:http';
import https from 'node:https';
import { Readable, pipeline } from 'node:stream';

const MAX_REDIRECTS = 10;

/** A request body: a string or buffer, or a stream (a blob upload), which cannot be sent twice. */
export type HttpBody = string | Buffer | Readable;

interface SendOptions {
  body?: HttpBody;
  signal?: AbortSignal;
  /** HTTPS without certificate verification: an insecure registry's HTTPS try, as moby's InsecureSkipVerify. */
  skipTlsVerify?: boolean;
}

function once(method: string, url: URL, headers: Record<string, string>, body: HttpBody | undefined, opts: SendOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { signal } = opts;
    const req = url.protocol === 'https:' ? https.request(url, { method, headers, signal, rejectUnauthorized: !opts.skipTlsVerify }, resolve) : http.request(url, { method, headers, signal }, resolve);
    req.once('error', reject);
    if (body instanceof Readable) {
      // The source's own failure (a read error, a gzip error) must fail the request too.
      pipeline(body, req, (err) => {
        if (err) {
          req.destroy(err);
          reject(err);
        }
      });
    } else req.end(body);
  });
}

/**
 * Whether credentials may follow a redirect from `from` to `to`: only to the same origin.
 * URL.host leaves out a scheme's default port, so comparing hosts would keep Authorization on
 * an https://reg -> http://reg downgrade; Go's client compares host and port with the
 * scheme's default filled in, and the origin adds the scheme itself.
 */
export function keepsCredentials(from: URL, to: URL): boolean {
  return from.origin !== 'null' && from.origin === to.origin;
}

/** Send a request, following redirects; Authorization is dropped once a redirect leaves the origin. */
export async function httpSend(method: string, url: string, headers: Record<string, string>, opts: SendOptions = {}): Promise<Response> {
  let current = new URL(url);
  let hdrs = { ...headers };
  let m = method;
  let body = opts.body;
  for (let hop = 0; ; hop++) {
    const res = await once(m, current, hdrs, body, opts);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    // A streamed body is gone once sent, so its redirect is the caller's answer.
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined && hop < MAX_REDIRECTS && !(body instanceof Readable)) {
      res.resume();
      const next = new URL(location, current);
      if (!keepsCredentials(current, next)) {
        const { Authorization: _a, authorization: _b, ...rest } = hdrs;
        hdrs = rest;
      }
      if (status === 303) {
        m = 'GET';
        body = undefined;
      }
      current = next;
      continue;
    }
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const x of v) h.append(k, x);
      else if (v !== undefined) h.set(k, v);
    }
    const noBody = status === 204 || status === 304 || m === 'HEAD';
    if (noBody) res.resume();
    return new Response(noBody ? null : lazyWebBody(res), { status, statusText: res.statusMessage, headers: h });
  }
}

/** The node streams under the bodies httpSend made, while nothing has read them as web streams. */
const nodeBodies = new WeakMap<ReadableStream<Uint8Array>, http.IncomingMessage>();

/**
 * A web stream over `res` that touches it only once read, so that nodeBody() can still hand
 * the node stream itself to a big download instead.
 */
function lazyWebBody(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        nodeBodies.delete(body);
        inner ??= (Readable.toWeb(res) as ReadableStream<Uint8Array>).getReader();
        const { done, value } = await inner.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        nodeBodies.delete(body);
        if (inner !== undefined) await inner.cancel(reason);
        else res.destroy();
      },
    },
    { highWaterMark: 0 },
  );
  nodeBodies.set(body, res);
  return body;
}

/**
 * The node stream under a response httpSend made, when nothing has read its body yet: a blob
 * download reads it directly rather than through a web stream and back (measured: about half
 * the CPU per byte received).
 */
export function nodeBody(res: Response): Readable | undefined {
  const body = res.body;
  if (body === null || body.locked) return undefined;
  const node = nodeBodies.get(body);
  if (node === undefined) return undefined;
  nodeBodies.delete(body);
  return node;
}
