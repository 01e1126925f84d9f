// The blob half of the distribution API's push side: does the repository have a blob (HEAD),
// mount one from another repository of the registry, and upload sessions: POST opens one,
// small blobs go in one PUT, larger ones in streamed PATCHes of at most CHUNK_SIZE bytes each
// (each answer's Location names the next step), and a PUT ?digest= closes it.
import { Readable } from 'node:stream';
import { SystemError } from '../../errors.js';
import { RegistryClient, errorFromResponse } from './registry-client.js';

/** Blobs up to this size (known in advance) go in one PUT; Docker never does, but it saves a round trip. */
export const MONOLITHIC_MAX = 1 << 20;
/** The most one PATCH carries; a blob past it takes several, so no request runs for minutes. */
export const CHUNK_SIZE = 64 << 20;

export type MountOutcome = { mounted: true } | { mounted: false; session: UploadSession };

export interface UploadSession {
  /** Where the next PATCH or PUT goes (absolute). */
  location: string;
}

function locationOf(client: RegistryClient, res: Response, what: string): string {
  const loc = res.headers.get('location');
  if (loc === null || loc === '') throw new SystemError(`registry answered ${what} without a Location`);
  return new URL(loc, client.baseUrl).toString();
}

/** The session URL with `digest` added to its query (it may carry state of its own, e.g. `_state`). */
function withQuery(location: string, key: string, value: string): string {
  const u = new URL(location);
  u.searchParams.set(key, value);
  return u.toString();
}

export class BlobPusher {
  constructor(
    private readonly client: RegistryClient,
    /** Bytes per PATCH (tests use small ones). */
    private readonly chunkSize = CHUNK_SIZE,
  ) {}

  private get repo(): string {
    return this.client.repository;
  }

  /** The blob's size when the repository has it, else undefined (404). */
  async stat(digest: string): Promise<number | undefined> {
    const res = await this.client.call('HEAD', `/v2/${this.repo}/blobs/${digest}`);
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (!res.ok) throw await errorFromResponse(res);
    const len = Number(res.headers.get('content-length'));
    return Number.isSafeInteger(len) && len >= 0 ? len : undefined;
  }

  /** POST /blobs/uploads/: a new session. */
  async open(): Promise<UploadSession> {
    const res = await this.client.call('POST', `/v2/${this.repo}/blobs/uploads/`, { 'Content-Length': '0' });
    await res.body?.cancel();
    if (res.status !== 202) throw await errorFromResponse(res);
    return { location: locationOf(this.client, res, 'an upload') };
  }

  /**
   * Cross-repository mount: 201 means the registry linked the blob from `fromRepo`; 202 means it
   * would not (the blob is not there, or no pull access) and opened an upload session instead.
   */
  async mount(digest: string, fromRepo: string): Promise<MountOutcome> {
    const q = new URLSearchParams({ mount: digest, from: fromRepo });
    const res = await this.client.call('POST', `/v2/${this.repo}/blobs/uploads/?${q}`, { 'Content-Length': '0' });
    await res.body?.cancel();
    if (res.status === 201) return { mounted: true };
    if (res.status === 202) return { mounted: false, session: { location: locationOf(this.client, res, 'a mount') } };
    throw await errorFromResponse(res);
  }

  /** Drop a session we will not use (a failed mount's, when another one is kept). */
  async cancel(session: UploadSession): Promise<void> {
    try {
      const res = await this.client.call('DELETE', session.location);
      await res.body?.cancel();
    } catch {
      // the registry expires abandoned sessions
    }
  }

  /** One PUT with the whole blob: for small blobs whose digest and size are known. */
  async putWhole(session: UploadSession, digest: string, body: Buffer | Readable, size: number): Promise<void> {
    const res = await this.client.call('PUT', withQuery(session.location, 'digest', digest), { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body);
    await this.expectCreated(res, digest);
  }

  /**
   * Stream `source` in PATCHes of at most CHUNK_SIZE bytes, then close the session with
   * `digest()` (known only once the source ended, for a blob compressed on the way).
   * Returns the bytes sent.
   */
  async putStream(session: UploadSession, source: Readable, digest: () => string): Promise<number> {
    const limit = this.chunkSize;
    const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let pending: Buffer | undefined;
    let ended = false;
    let sent = 0;
    try {
      while (!ended) {
        // One request's body: the source's next CHUNK_SIZE bytes; a buffer split at the limit
        // keeps its rest for the next request. A source ending right at a limit costs one
        // empty PATCH.
        const body = Readable.from(
          (async function* () {
            let n = 0;
            while (n < limit) {
              let buf = pending;
              pending = undefined;
              if (buf === undefined) {
                const r = await it.next();
                if (r.done) {
                  ended = true;
                  return;
                }
                buf = r.value;
              }
              if (n + buf.length > limit) {
                pending = buf.subarray(limit - n);
                buf = buf.subarray(0, limit - n);
              }
              n += buf.length;
              sent += buf.length;
              yield buf;
            }
          })(),
          { objectMode: false },
        );
        const res = await this.client.call('PATCH', session.location, { 'Content-Type': 'application/octet-stream' }, body);
        await res.body?.cancel();
        if (res.status !== 202) throw await errorFromResponse(res);
        session.location = locationOf(this.client, res, 'a chunk');
      }
    } finally {
      if (!ended) source.destroy();
    }
    const d = digest();
    const res = await this.client.call('PUT', withQuery(session.location, 'digest', d), { 'Content-Length': '0' });
    await this.expectCreated(res, d);
    return sent;
  }

  private async expectCreated(res: Response, digest: string): Promise<void> {
    if (res.status !== 201) throw await errorFromResponse(res);
    await res.body?.cancel();
    const got = res.headers.get('docker-content-digest');
    if (got !== null && got !== '' && got !== digest) throw new SystemError(`registry stored blob ${digest} as ${got}`);
  }
}
