// SPDY/3.1 frames: the 8-byte headers, each control frame's fixed fields, and an incremental
// reader that cuts frames out of whatever chunks TCP delivers. Header blocks stay compressed
// here; header-block.ts owns the zlib contexts, which must see blocks in wire order.

export const SPDY_VERSION = 3;

export const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** SETTINGS id of the initial per-stream window (SPDY/3). */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** A frame's 24-bit length field caps its payload. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; flags: number; block: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; block: Buffer }
  | { type: 'headers'; streamId: number; flags: number; block: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { id: number; flags: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type SPDY/3 does not define: skipped, as the spec says. */
  | { type: 'unknown'; frameType: number };

export class SpdyProtocolError extends Error {}

const ID_MASK = 0x7fffffff;

function controlHeader(type: number, flags: number, length: number): Buffer {
  const h = Buffer.alloc(8 + length);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | (length & 0xffffff), 4);
  return h;
}

/** Serialises a frame; header blocks must already be compressed. */
export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case 'data': {
      if (f.data.length > MAX_FRAME_PAYLOAD) throw new RangeError('DATA payload too large');
      const b = Buffer.alloc(8 + f.data.length);
      b.writeUInt32BE(f.streamId & ID_MASK, 0);
      b.writeUInt32BE(((f.flags & 0xff) << 24) | f.data.length, 4);
      f.data.copy(b, 8);
      return b;
    }
    case 'syn_stream': {
      const b = controlHeader(FrameType.SynStream, f.flags, 10 + f.block.length);
      b.writeUInt32BE(f.streamId & ID_MASK, 8);
      b.writeUInt32BE(f.associatedId & ID_MASK, 12);
      b.writeUInt8((f.priority & 0x7) << 5, 16);
      b.writeUInt8(0, 17); // slot
      f.block.copy(b, 18);
      return b;
    }
    case 'syn_reply':
    case 'headers': {
      const b = controlHeader(f.type === 'syn_reply' ? FrameType.SynReply : FrameType.Headers, f.flags, 4 + f.block.length);
      b.writeUInt32BE(f.streamId & ID_MASK, 8);
      f.block.copy(b, 12);
      return b;
    }
    case 'rst_stream': {
      const b = controlHeader(FrameType.RstStream, 0, 8);
      b.writeUInt32BE(f.streamId & ID_MASK, 8);
      b.writeUInt32BE(f.status >>> 0, 12);
      return b;
    }
    case 'settings': {
      const b = controlHeader(FrameType.Settings, f.flags, 4 + 8 * f.entries.length);
      b.writeUInt32BE(f.entries.length, 8);
      f.entries.forEach((e, i) => {
        b.writeUInt32BE((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, 12 + i * 8);
        b.writeUInt32BE(e.value >>> 0, 16 + i * 8);
      });
      return b;
    }
    case 'ping': {
      const b = controlHeader(FrameType.Ping, 0, 4);
      b.writeUInt32BE(f.id >>> 0, 8);
      return b;
    }
    case 'goaway': {
      const b = controlHeader(FrameType.GoAway, 0, 8);
      b.writeUInt32BE(f.lastGoodStreamId & ID_MASK, 8);
      b.writeUInt32BE(f.status >>> 0, 12);
      return b;
    }
    case 'window_update': {
      const b = controlHeader(FrameType.WindowUpdate, 0, 8);
      b.writeUInt32BE(f.streamId & ID_MASK, 8);
      b.writeUInt32BE(f.delta & ID_MASK, 12);
      return b;
    }
    case 'unknown':
      throw new TypeError('cannot encode an unknown frame');
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame too short (${payload.length} bytes)`);
}

function decodeControl(type: number, flags: number, p: Buffer): Frame {
  switch (type) {
    case FrameType.SynStream:
      need(p, 10, 'SYN_STREAM');
      return {
        type: 'syn_stream',
        streamId: p.readUInt32BE(0) & ID_MASK,
        associatedId: p.readUInt32BE(4) & ID_MASK,
        priority: p.readUInt8(8) >> 5,
        flags,
        block: p.subarray(10),
      };
    case FrameType.SynReply:
    case FrameType.Headers:
      need(p, 4, type === FrameType.SynReply ? 'SYN_REPLY' : 'HEADERS');
      return { type: type === FrameType.SynReply ? 'syn_reply' : 'headers', streamId: p.readUInt32BE(0) & ID_MASK, flags, block: p.subarray(4) };
    case FrameType.RstStream:
      need(p, 8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: p.readUInt32BE(0) & ID_MASK, status: p.readUInt32BE(4) };
    case FrameType.Settings: {
      need(p, 4, 'SETTINGS');
      const n = p.readUInt32BE(0);
      if (p.length < 4 + n * 8) throw new SpdyProtocolError('SETTINGS frame shorter than its entry count');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const idf = p.readUInt32BE(4 + i * 8);
        entries.push({ flags: idf >>> 24, id: idf & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.Ping:
      need(p, 4, 'PING');
      return { type: 'ping', id: p.readUInt32BE(0) };
    case FrameType.GoAway:
      need(p, 4, 'GOAWAY');
      // SPDY/3 adds a status; SPDY/2 peers send only the stream id.
      return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & ID_MASK, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.WindowUpdate:
      need(p, 8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: p.readUInt32BE(0) & ID_MASK, delta: p.readUInt32BE(4) & ID_MASK };
    default:
      return { type: 'unknown', frameType: type };
  }
}

/**
 * Cuts frames out of a byte stream. push() takes any chunk (a frame split over many chunks,
 * or many frames in one) and returns the frames completed so far, in order.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** maxPayload bounds what one frame may make us buffer. */
  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (length > this.maxPayload) throw new SpdyProtocolError(`frame of ${length} bytes exceeds the limit of ${this.maxPayload}`);
      if (this.buffered < 8 + length) break;
      const whole = this.take(8 + length);
      const flags = whole.readUInt8(4);
      const payload = whole.subarray(8);
      if (whole.readUInt8(0) & 0x80) {
        const version = whole.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        frames.push(decodeControl(whole.readUInt16BE(2), flags, payload));
      } else {
        frames.push({ type: 'data', streamId: whole.readUInt32BE(0) & ID_MASK, flags, data: payload });
      }
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
