// Blobs addressed by digest. Everything is streamed into content/ingest/ first and hashed on
// the way; only a verified blob is renamed into content/blobs/sha256/, so a blob that exists
// under its digest is always complete and correct.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
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
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(root: string) {
    this.blobsDir = join(root, 'content', 'blobs', 'sha256');
    this.ingestDir = join(root, 'content', 'ingest');
  }

  /** Startup: create the dirs and drop ingest files a crash left behind. */
  initSync(): void {
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
    for (const name of readdirSync(this.ingestDir)) rmSync(join(this.ingestDir, name), { recursive: true, force: true });
  }

  /** Every blob digest present (startup scan). */
  listSync(): string[] {
    return readdirSync(this.blobsDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
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
