// SPDY/3 name/value header blocks and their compression: one zlib context per direction for
// the whole session, preset with the SPDY/3 dictionary, each block ended by Z_SYNC_FLUSH so the
// peer can inflate it at once. The contexts carry state from block to block, so every block
// must pass through them in wire order: callers queue blocks in that order.
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** Header names are lower-case on the wire; several values of one name are joined by NUL. */
export type HeaderMap = Record<string, string[]>;

/** The largest decompressed block we accept: a peer cannot make us inflate without bound. */
const MAX_BLOCK = 256 * 1024;

export function encodeHeaderBlock(headers: HeaderMap): Buffer {
  const names = Object.keys(headers);
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(names.length);
  parts.push(count);
  for (const name of names) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(headers[name]!.join('\0'), 'utf8');
    const nl = Buffer.alloc(4);
    nl.writeUInt32BE(n.length);
    const vl = Buffer.alloc(4);
    vl.writeUInt32BE(v.length);
    parts.push(nl, n, vl, v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderMap {
  const out: HeaderMap = {};
  let off = 0;
  const u32 = (what: string) => {
    if (off + 4 > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    const v = block.readUInt32BE(off);
    off += 4;
    return v;
  };
  const bytes = (n: number, what: string) => {
    if (off + n > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    const b = block.subarray(off, off + n);
    off += n;
    return b;
  };
  const count = u32('the pair count');
  for (let i = 0; i < count; i++) {
    const name = bytes(u32('a name length'), 'a name').toString('utf8').toLowerCase();
    const value = bytes(u32('a value length'), 'a value').toString('utf8');
    if (name === '') throw new SpdyProtocolError('empty header name');
    (out[name] ??= []).push(...value.split('\0'));
  }
  return out;
}

/**
 * One persistent zlib stream driven a block at a time: the block is written, then flushed with
 * Z_SYNC_FLUSH, and the output that the flush produced is the block's result. Calls are
 * serialised, so results come back in call order and the context sees blocks in that order.
 */
class ZlibContext {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly z: zlib.Deflate | zlib.Inflate,
    private readonly maxOutput = Number.MAX_SAFE_INTEGER,
  ) {
    z.on('error', () => undefined); // reported to the caller of run()
  }

  run(input: Buffer): Promise<Buffer> {
    const result = this.tail.then(() => this.once(input));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private once(input: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('zlib context closed'));
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > this.maxOutput) onError(new Error(`header block inflates past ${this.maxOutput} bytes`));
        else out.push(c);
      };
      const onError = (err: Error) => {
        if (this.closed) return;
        cleanup();
        this.close();
        reject(err);
      };
      const cleanup = () => {
        this.z.off('data', onData);
        this.z.off('error', onError);
      };
      this.z.on('data', onData);
      this.z.once('error', onError);
      this.z.write(input);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        cleanup();
        if (this.closed) reject(new Error('zlib context closed'));
        else resolve(Buffer.concat(out));
      });
    });
  }

  close(): void {
    this.closed = true;
    this.z.close();
  }
}

/** Our side's compression context for the session's outgoing header blocks. */
export class HeaderCompressor {
  private readonly z = new ZlibContext(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY }));

  compress(headers: HeaderMap): Promise<Buffer> {
    return this.z.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.z.close();
  }
}

/** The decompression context for the peer's header blocks. */
export class HeaderDecompressor {
  private readonly z = new ZlibContext(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }), MAX_BLOCK);

  async decompress(block: Buffer): Promise<HeaderMap> {
    // A frame may carry no block at all (nothing for the context to see).
    if (block.length === 0) return {};
    let raw: Buffer;
    try {
      raw = await this.z.run(block);
    } catch (err) {
      throw new SpdyProtocolError(`header block does not inflate: ${(err as Error).message}`);
    }
    return decodeHeaderBlock(raw);
  }

  close(): void {
    this.z.close();
  }
}
