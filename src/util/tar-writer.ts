// A tar written as its reader takes it: tar-stream's pack fed one entry at a time, file content
// read in chunks (a 200 MB file never sits in memory), and a reader that goes away ends the
// writing at its next step. docker cp/export's walk and the builder's COPY plans write through it.
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';

const CHUNK = 256 * 1024;

export type OutHeader = Partial<tar.Header> & { name: string };

export class StreamClosedError extends Error {
  constructor() {
    super('the reader closed the tar');
  }
}

export class TarWriter {
  private readonly pack = tar.pack();
  private readonly closed = new AbortController();
  private readonly waiting = new Set<(err: Error) => void>();

  constructor() {
    this.pack.once('close', () => {
      this.closed.abort();
      for (const fail of this.waiting) fail(new StreamClosedError());
    });
  }

  get stream(): Readable {
    return this.pack as unknown as Readable;
  }

  get aborted(): boolean {
    return this.closed.signal.aborted;
  }

  finish(): void {
    if (!this.aborted) this.pack.finalize();
  }

  fail(err: unknown): void {
    if (!this.aborted) this.pack.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  /** An entry without content (directory, symlink, hard link, device node, fifo). */
  add(h: OutHeader): Promise<void> {
    return this.write((cb) => this.pack.entry({ ...h, size: 0 }, Buffer.alloc(0), cb));
  }

  /** A regular file's entry with `size` bytes of `fh` (a file that shrank meanwhile is padded: the header promised the size). */
  file(h: OutHeader, fh: FileHandle, size: number): Promise<void> {
    return this.write((cb) => {
      const sink = this.pack.entry({ ...h, type: 'file', size }, cb);
      void (async () => {
        let pos = 0;
        while (pos < size) {
          if (this.aborted) throw new StreamClosedError();
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          const piece = bytesRead === 0 ? Buffer.alloc(buf.length) : buf.subarray(0, bytesRead);
          pos += piece.length;
          if (!sink.write(piece)) await once(sink, 'drain', { signal: this.closed.signal });
        }
        sink.end(Buffer.alloc(0));
      })().catch((err: Error) => {
        sink.destroy(err);
        cb(err);
      });
    });
  }

  /** A regular file's entry whose `size` bytes come from `src` (an entry of another tar). */
  copy(h: OutHeader, src: AsyncIterable<Buffer>, size: number): Promise<void> {
    return this.write((cb) => {
      const sink = this.pack.entry({ ...h, type: 'file', size }, cb);
      void (async () => {
        for await (const chunk of src) {
          if (this.aborted) throw new StreamClosedError();
          if (!sink.write(chunk)) await once(sink, 'drain', { signal: this.closed.signal });
        }
        sink.end(Buffer.alloc(0));
      })().catch((err: Error) => {
        sink.destroy(err);
        cb(err);
      });
    });
  }

  private write(start: (cb: (err?: Error | null) => void) => void): Promise<void> {
    if (this.aborted) return Promise.reject(new StreamClosedError());
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        this.waiting.delete(fail);
        reject(err);
      };
      this.waiting.add(fail);
      start((err) => {
        this.waiting.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }
}
