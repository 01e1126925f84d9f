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

/**
 * Collects many small writes into few large ones: consecutive payloads of one stream share a
 * frame (a frame boundary carries no meaning for Docker's clients, which copy payloads out), and
 * take() returns everything as one buffer. `raw` (a TTY stream) keeps no framing at all.
 */
export class FrameBatcher {
  private readonly out: Buffer[] = [];
  private run: Buffer[] = [];
  private runStream: StdStream | undefined;
  private runLength = 0;
  private total = 0;

  constructor(private readonly raw: boolean) {}

  get size(): number {
    return this.total;
  }

  push(stream: StdStream, data: Buffer): void {
    if (this.raw) {
      this.out.push(data);
    } else {
      if (stream !== this.runStream || this.runLength + data.length > MAX_FRAME) this.endRun();
      this.runStream = stream;
      this.run.push(data);
      this.runLength += data.length;
    }
    this.total += data.length;
  }

  /** Everything pushed since the last take, framed; undefined when nothing was. */
  take(): Buffer | undefined {
    this.endRun();
    if (this.out.length === 0) return undefined;
    const buf = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out.length = 0;
    this.total = 0;
    return buf;
  }

  private endRun(): void {
    if (this.runStream !== undefined && this.runLength > 0) this.out.push(frameHeader(this.runStream, this.runLength), ...this.run);
    this.run = [];
    this.runLength = 0;
    this.runStream = undefined;
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
