// Blobs addressed by digest. Everything is streamed into content/ingest/ first and hashed on
// the way; only a verified blob is renamed into content/blobs/sha256/, so a blob that exists
// under its digest is always complete and correct. Registry downloads go to
// content/partial/<hex> instead, which outlives an interrupted pull (client gone, registry
// gone, daemon killed) so that the next fetch asks only for the rest with an HTTP Range.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, SystemError } from '../../errors.js';

const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;

export function digestHex(digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new InvalidParameterError(`unsupported digest algorithm or invalid digest: ${digest}`);
  return m[1];
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface WriteOptions {
  /** Refuse the blob unless it hashes to this. */
  expectedDigest?: string;
  expectedSize?: number;
  /** Called with the byte count so far, at most every chunk. */
  onProgress?: (current: number) => void;
  signal?: AbortSignal;
  /** Called with the digest once the bytes are verified, before the blob is renamed into place (an Ingest holds it here). */
  onDigest?: (digest: string) => void;
}

/** Where a resumable download starts: `offset` bytes the server skipped (0 when it sent all). */
export type OpenAt = (offset: number, signal?: AbortSignal) => Promise<{ body: Readable; offset: number }>;

/** A download that sent more than its descriptor: the partial file is garbage, not a prefix. */
class Overlong extends SystemError {}

/** Resolves when the disk may be trusted (no garbage collection is deleting). */
export type Gate = () => Promise<void>;

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;
  readonly partialDir: string;

  constructor(
    root: string,
    private readonly gate: Gate = async () => undefined,
  ) {
    this.blobsDir = join(root, 'content', 'blobs', 'sha256');
    this.ingestDir = join(root, 'content', 'ingest');
    this.partialDir = join(root, 'content', 'partial');
  }

  /**
   * Startup: create the dirs and drop ingest files a crash left behind, and partial downloads
   * older than `keepPartialMs` (by their last write).
   */
  initSync(keepPartialMs = Infinity): void {
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
    mkdirSync(this.partialDir, { recursive: true });
    for (const name of readdirSync(this.ingestDir)) rmSync(join(this.ingestDir, name), { recursive: true, force: true });
    const now = Date.now();
    for (const name of readdirSync(this.partialDir)) {
      const path = join(this.partialDir, name);
      let old = true;
      try {
        const st = statSync(path);
        old = !st.isFile() || !/^[a-f0-9]{64}$/.test(name) || now - st.mtimeMs > keepPartialMs;
      } catch {
        // gone already
      }
      if (old) rmSync(path, { recursive: true, force: true });
    }
  }

  /** Downloads cut short, with the bytes kept so far. */
  async partials(): Promise<{ digest: string; size: number }[]> {
    const out: { digest: string; size: number }[] = [];
    for (const name of await readdir(this.partialDir).catch(() => [] as string[])) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const st = await stat(join(this.partialDir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ digest: `sha256:${name}`, size: st.size });
    }
    return out;
  }

  async deletePartial(digest: string): Promise<void> {
    await rm(join(this.partialDir, digestHex(digest)), { force: true });
  }

  /**
   * Download `digest` (`size` bytes) into the store, resuming a partial file a previous
   * attempt left: its bytes are hashed again, and `open(offset)` asks the source for the
   * rest. A source that ignores the offset starts the file over. A result that does not
   * verify after a resume is fetched once more from the start (the kept prefix may be what
   * was wrong); one that does not verify from the start fails, and nothing of it is kept.
   * An interruption keeps the partial file.
   */
  async fetchResumable(
    digest: string,
    size: number,
    open: OpenAt,
    opts: { onProgress?: (current: number) => void; signal?: AbortSignal; tee?: Writable } = {},
  ): Promise<void> {
    const path = join(this.partialDir, digestHex(digest));
    await mkdir(this.partialDir, { recursive: true });
    let tee = opts.tee;
    // The tee sees the blob from its first byte once, or not at all (a resume or a second try
    // ends it with an error): what it got is then only checked by its own reader.
    const dropTee = (why: string) => {
      tee?.destroy(new SystemError(`blob ${digest}: ${why}`));
      tee = undefined;
    };
    try {
      await this.fetchAttempts(digest, size, path, open, opts, () => tee, dropTee);
      tee?.end();
    } catch (err) {
      dropTee('download failed');
      throw err;
    }
  }

  private async fetchAttempts(
    digest: string,
    size: number,
    path: string,
    open: OpenAt,
    opts: { onProgress?: (current: number) => void; signal?: AbortSignal },
    teeOf: () => Writable | undefined,
    dropTee: (why: string) => void,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let offset = (await stat(path).catch(() => undefined))?.size ?? 0;
      if (offset >= size) {
        await rm(path, { force: true });
        offset = 0;
      }
      if (offset > 0 || attempt > 0) dropTee('resumed');
      let hash = createHash('sha256');
      if (offset > 0) {
        for await (const c of createReadStream(path, { start: 0, end: offset - 1 })) hash.update(c as Buffer);
      }
      const { body, offset: from } = await open(offset, opts.signal);
      if (from !== offset) {
        offset = 0;
        hash = createHash('sha256');
      }
      let written = offset;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (written > size) {
            cb(new Overlong(`blob ${digest}: more than the expected ${size} bytes received`));
            return;
          }
          hash.update(chunk);
          opts.onProgress?.(written);
          const tee = teeOf();
          // the tee's reader sets the pace, unless it has gone (then the download goes on alone)
          if (tee !== undefined && !tee.destroyed && !tee.write(chunk)) {
            const go = () => {
              tee.off('drain', go);
              tee.off('close', go);
              cb(null, chunk);
            };
            tee.on('drain', go);
            tee.on('close', go);
            return;
          }
          cb(null, chunk);
        },
      });
      try {
        await pipeline(body, counter, createWriteStream(path, { flags: offset > 0 ? 'a' : 'w' }), { signal: opts.signal });
      } catch (err) {
        if (err instanceof Overlong) await rm(path, { force: true });
        throw err;
      }
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest || written !== size) {
        await rm(path, { force: true });
        if (offset > 0 && attempt === 0) continue;
        if (got !== digest) throw new SystemError(`filesystem layer verification failed for digest ${digest}`);
        throw new SystemError(`blob ${digest}: expected ${size} bytes, got ${written}`);
      }
      await rename(path, this.blobPath(digest));
      return;
    }
  }

  /** Every blob digest present (the garbage collector's listing). */
  async list(): Promise<string[]> {
    return (await readdir(this.blobsDir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digestHex(digest));
  }

  /** Whether the blob is present; hold the digest first, or a garbage collection may remove it right after. */
  async has(digest: string): Promise<boolean> {
    await this.gate();
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.blobPath(digest))).size;
  }

  /** Stream `src` into the store, verifying the digest; returns the digest and size written. */
  async write(src: Readable, opts: WriteOptions = {}): Promise<{ digest: string; size: number }> {
    const ingest = join(this.ingestDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const expected = opts.expectedSize !== undefined && opts.expectedSize >= 0 ? opts.expectedSize : undefined;
    const label = opts.expectedDigest !== undefined ? `blob ${opts.expectedDigest}` : 'blob';
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        // A source longer than its descriptor fails here, before the excess reaches the disk.
        if (expected !== undefined && size > expected) {
          cb(new SystemError(`${label}: more than the expected ${expected} bytes received`));
          return;
        }
        hash.update(chunk);
        opts.onProgress?.(size);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(src, counter, createWriteStream(ingest), { signal: opts.signal });
      const digest = `sha256:${hash.digest('hex')}`;
      if (opts.expectedDigest !== undefined && digest !== opts.expectedDigest) {
        throw new SystemError(`filesystem layer verification failed for digest ${opts.expectedDigest}`);
      }
      if (expected !== undefined && size !== expected) {
        throw new SystemError(`blob ${digest}: expected ${expected} bytes, got ${size}`);
      }
      opts.onDigest?.(digest);
      await this.gate();
      await rename(ingest, this.blobPath(digest));
      return { digest, size };
    } catch (err) {
      await rm(ingest, { force: true });
      throw err;
    }
  }

  async writeBuffer(data: Buffer | string, expectedDigest?: string): Promise<string> {
    const { digest } = await this.write(Readable.from([Buffer.from(data)]), { expectedDigest });
    return digest;
  }

  read(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  async readBuffer(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async delete(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async ensureDirs(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
  }
}
