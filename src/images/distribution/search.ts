// GET /images/search's remote part, as moby's registry session searchRepositories: the v1 search
// endpoint of the term's index (Docker Hub's index.docker.io for unqualified names). Offline
// there is no index to reach; the answer is then moby's: a 500 whose message is Go's http
// client error (`Get "<url>": dial tcp: lookup <host> on <dns>:53: no such host`), which the
// docker CLI prints after "Error response from daemon:".
import { readFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { InvalidParameterError, SystemError } from '../../errors.js';

export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

const INDEX_HOST = 'index.docker.io';

/** moby's splitReposSearchTerm: an index host only when the first part looks like one. */
export function splitSearchTerm(term: string): { index: string; remote: string } {
  const i = term.indexOf('/');
  if (i < 0) return { index: INDEX_HOST, remote: term };
  const first = term.slice(0, i);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return { index: INDEX_HOST, remote: term };
  return { index: first === 'docker.io' ? INDEX_HOST : first, remote: term.slice(i + 1) };
}

/** The first nameserver of /etc/resolv.conf, as Go's resolver names it in its errors. */
async function nameserver(): Promise<string | undefined> {
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(await readFile('/etc/resolv.conf', 'utf8'));
    if (!m) return undefined;
    return m[1].includes(':') ? `[${m[1]}]:53` : `${m[1]}:53`;
  } catch {
    return undefined;
  }
}

/** Node's network error in Go's net/http words. */
async function goNetError(url: URL, err: unknown): Promise<string> {
  type NetError = NodeJS.ErrnoException & { address?: string; port?: number };
  const cause: NetError | undefined = (err as { cause?: NetError }).cause ?? (err as NetError);
  const host = url.hostname;
  switch (cause?.code) {
    case 'ENOTFOUND': {
      const ns = await nameserver();
      return `dial tcp: lookup ${host}${ns ? ` on ${ns}` : ''}: no such host`;
    }
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${host}: Temporary failure in name resolution`;
    case 'ECONNREFUSED':
      return `dial tcp ${cause.address ?? host}:${cause.port ?? url.port}: connect: connection refused`;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `dial tcp ${cause.address ?? host}:${cause.port ?? 443}: connect: network is unreachable`;
    default:
      return cause?.message ?? String(err);
  }
}

/** A GET through node:http(s) (fetch refuses some ports); the body is read up to 4 MiB. */
async function get(url: URL, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const timeout = AbortSignal.timeout(15_000);
  try {
    return await new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 4 << 20) res.destroy(new Error('search answer larger than 4 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  } catch (err) {
    if (timeout.aborted) throw new SystemError(`Get "${url.href}": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`);
    throw new SystemError(`Get "${url.href}": ${await goNetError(url, err)}`);
  }
}

/** Ask the term's index (0 means moby's default limit, 25). */
export async function searchRepositories(term: string, limit: number, signal?: AbortSignal): Promise<SearchResult[]> {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(term)) throw new InvalidParameterError(`invalid repository name: repository name (${term}) should not have a scheme`);
  const n = limit === 0 ? 25 : limit;
  if (n < 1 || n > 100) throw new InvalidParameterError(`limit ${n} is outside the range of [1, 100]`);
  const { index, remote } = splitSearchTerm(term);
  const name = index === INDEX_HOST ? remote.replace(/^library\//, '') : remote;
  let base = new URL(`https://${index}/v1/`);
  if (index !== INDEX_HOST) base = await pingIndex(base, signal);
  const url = new URL(`search?q=${encodeURIComponent(name)}&n=${n}`, base);
  const res = await get(url, signal);
  if (res.status !== 200) throw new SystemError(`Unexpected status code ${res.status}${res.body ? `: ${res.body.slice(0, 1024)}` : ''}`);
  let doc: { results?: SearchResult[] } = {};
  try {
    doc = JSON.parse(res.body) as { results?: SearchResult[] };
  } catch {
    throw new SystemError('invalid character in the index\'s search answer');
  }
  return Array.isArray(doc.results) ? doc.results : [];
}

const isLoopback = (host: string) => host === 'localhost' || /^127\./.test(host) || host === '[::1]';

/**
 * A private index must answer its v1 ping first (moby's newV1Endpoint): HTTPS, then plain HTTP
 * for a loopback (insecure) one; the endpoint that answers is the one searched.
 */
async function pingIndex(https: URL, signal?: AbortSignal): Promise<URL> {
  const attempt = async (base: URL) => {
    try {
      await get(new URL('_ping', base), signal);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const httpsErr = await attempt(https);
  if (httpsErr === undefined) return https;
  if (!isLoopback(https.hostname)) throw new SystemError(`invalid registry endpoint ${https.href}: ${httpsErr}`);
  const http = new URL(https.href.replace(/^https:/, 'http:'));
  const httpErr = await attempt(http);
  if (httpErr === undefined) return http;
  throw new SystemError(`invalid registry endpoint "${http.href}". HTTPS attempt: ${httpsErr}. HTTP attempt: ${httpErr}`);
}
