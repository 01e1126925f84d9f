// A pass-through that reads tar headers as they stream by and refuses the ones tar-stream would
// buffer whole in memory (PAX and GNU long-name records) when they are absurdly large: a client
// (or a tar in a build context that ADD unpacks) must not be able to make the daemon allocate a
// gigabyte for one header.
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidParameterError } from '../errors.js';

const BLOCK = 512;
const MAX_META = 1024 * 1024;
// x: PAX, g: global PAX, L/K: GNU long name / long link name
const BUFFERED_TYPES = new Set(['x', 'g', 'L', 'K']);

function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  // GNU base-256 for sizes past 8 GiB: top bit set, big-endian after the first byte
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? Number.parseInt(text, 8) : 0;
}

/** The `size` record of a PAX extended header (Go's archive/tar writes one for files of 8 GiB and more). */
export function paxSize(records: Buffer): number | undefined {
  let pos = 0;
  let size: number | undefined;
  while (pos < records.length) {
    const space = records.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(records.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= space - pos) break;
    const record = records.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'size') size = Number(record.slice(eq + 1));
    pos += len;
  }
  return size !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

export class TarHeaderGuard extends Transform {
  private header = Buffer.alloc(0);
  /** Bytes of entry data (padded) still to pass before the next header. */
  private skip = 0;
  /** A PAX header's records, gathered as they pass (at most MAX_META), and how many are still due. */
  private pax: Buffer[] | null = null;
  private paxDue = 0;
  /** The size the last PAX header gave the next entry. */
  private nextSize: number | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        if (this.pax && this.paxDue > 0) {
          const take = Math.min(n, this.paxDue);
          this.pax.push(Buffer.from(chunk.subarray(pos, pos + take)));
          this.paxDue -= take;
          if (this.paxDue === 0) {
            this.nextSize = paxSize(Buffer.concat(this.pax));
            this.pax = null;
          }
        }
        this.skip -= n;
        pos += n;
        continue;
      }
      const need = BLOCK - this.header.length;
      const piece = chunk.subarray(pos, pos + need);
      this.header = this.header.length ? Buffer.concat([this.header, piece]) : Buffer.from(piece);
      pos += piece.length;
      if (this.header.length < BLOCK) break;
      const header = this.header;
      this.header = Buffer.alloc(0);
      if (header.every((b) => b === 0)) continue; // end-of-archive blocks
      const type = String.fromCharCode(header[156]!);
      let size = entrySize(header);
      if (!Number.isFinite(size) || size < 0) return done(new InvalidParameterError('invalid tar header: bad size field'));
      if (BUFFERED_TYPES.has(type) && size > MAX_META) {
        return done(new InvalidParameterError(`invalid tar header: a ${size}-byte metadata record (at most ${MAX_META} are accepted)`));
      }
      if (type === 'x') {
        this.pax = [];
        this.paxDue = size;
      } else if (!BUFFERED_TYPES.has(type)) {
        // the PAX size overrides the header's (zero for files past the ustar field's 8 GiB)
        if (this.nextSize !== undefined) size = this.nextSize;
        this.nextSize = undefined;
      }
      this.skip = Math.ceil(size / BLOCK) * BLOCK;
    }
    done(null, chunk);
  }
}
