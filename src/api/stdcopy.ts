// Docker's multiplexed stream framing (pkg/stdcopy): each write becomes an 8-byte header
// [stream, 0, 0, 0, uint32 BE length] followed by the payload. Used when there is no TTY.
import { Transform, type TransformCallback } from 'node:stream';

export const StdStream = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  /** Daemon-side error text; the Go client's StdCopy returns it as an error. */
  SystemErr: 3,
} as const;
export type StdStream = (typeof StdStream)[keyof typeof StdStream];

export const FRAME_HEADER_SIZE = 8;
const MAX_FRAME = 0xffffffff;

export function frameHeader(stream: StdStream, length: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_SIZE);
  header[0] = stream;
  header.writeUInt32BE(length, 4);
  return header;
}

/** One frame (or several when the payload exceeds the 32-bit length field). */
export function frame(stream: StdStream, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length <= MAX_FRAME) return Buffer.concat([frameHeader(stream, data.length), data]);
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_FRAME) {
    const piece = data.subarray(off, off + MAX_FRAME);
    parts.push(frameHeader(stream, piece.length), piece);
  }
  return Buffer.concat(parts);
}

/** A Transform that frames every chunk written to it as one message on `stream`. */
export class FrameEncoder extends Transform {
  constructor(private readonly stream: StdStream) {
    super();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length === 0) return done();
    // Header and payload pushed separately: no copy of the payload.
    this.push(frameHeader(this.stream, data.length));
    this.push(data);
    done();
  }
}

const EMPTY = Buffer.alloc(0);
/** The first buffer a batch gets; it doubles as needed. */
const INITIAL_BATCH = 16 * 1024;

/**
 * Packs many messages into one buffer, for one write: each message its own frame, as moby's
 * StdWriter frames every Write and the logs route writes once per log message (docker-py's
 * `logs(stream=True)` yields frame by frame, so merged messages would reach it as one), but not
 * one write per frame. `raw` (a TTY stream) keeps no framing at all: the bytes, one after the
 * other. Headers and payloads are copied into the buffer in place: no allocation per message.
 */
export class FrameBatcher {
  private buf: Buffer = EMPTY;
  private used = 0;
  /** Size of the last batch taken: the next one starts as large. */
  private lastTaken = 0;

  constructor(private readonly raw: boolean) {}

  /** Bytes waiting, framing included. */
  get size(): number {
    return this.used;
  }

  /** One message; `prefix` (ASCII, such as a timestamp) goes at the start of its payload. */
  push(stream: StdStream, data: Buffer, prefix = ''): void {
    const length = prefix.length + data.length;
    if (!this.raw && length > MAX_FRAME) {
      // Never a log message (conmon cuts lines at 8 KiB); kept correct all the same.
      this.append(frame(stream, prefix === '' ? data : Buffer.concat([Buffer.from(prefix, 'latin1'), data])));
      return;
    }
    this.reserve((this.raw ? 0 : FRAME_HEADER_SIZE) + length);
    const buf = this.buf;
    let at = this.used;
    if (!this.raw) {
      buf[at] = stream;
      buf[at + 1] = 0;
      buf[at + 2] = 0;
      buf[at + 3] = 0;
      buf.writeUInt32BE(length, at + 4);
      at += FRAME_HEADER_SIZE;
    }
    if (prefix !== '') at += buf.write(prefix, at, 'latin1');
    buf.set(data, at);
    this.used = at + data.length;
  }

  /** Everything pushed since the last take, as one buffer; undefined when nothing was. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    // A view of the buffer, which is never written again: a new one starts the next batch.
    const out = this.buf.subarray(0, this.used);
    this.lastTaken = this.used;
    this.buf = EMPTY;
    this.used = 0;
    return out;
  }

  private append(bytes: Buffer): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  private reserve(n: number): void {
    const need = this.used + n;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, this.lastTaken, INITIAL_BATCH));
    if (this.used > 0) this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

export interface DecodedFrame {
  stream: number;
  payload: Buffer;
}

/**
 * Incremental decoder: feed bytes, get complete frames; keeps the partial tail.
 * Throws on an unknown stream type like Go's StdCopy (`Unrecognized input header`).
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): DecodedFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: DecodedFrame[] = [];
    while (this.pending.length >= FRAME_HEADER_SIZE) {
      const stream = this.pending[0]!;
      if (stream > StdStream.SystemErr) throw new Error(`Unrecognized input header: ${stream}`);
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < FRAME_HEADER_SIZE + length) break;
      frames.push({ stream, payload: this.pending.subarray(FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + length) });
      this.pending = this.pending.subarray(FRAME_HEADER_SIZE + length);
    }
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Decodes a complete buffer; trailing partial frames are an error. */
export function decodeFrames(data: Buffer): DecodedFrame[] {
  const decoder = new FrameDecoder();
  const frames = decoder.push(data);
  if (decoder.buffered !== 0) throw new Error('truncated stdcopy frame');
  return frames;
}
