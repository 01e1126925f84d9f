// One SPDY/3.1 connection: the stream table, SYN_REPLY, DATA in and out with FIN, RST_STREAM,
// PING echo, GOAWAY and flow control. Each stream is a Node Duplex. The same class serves the
// streaming server (role 'server': the peer opens odd-numbered streams) and the tests' client.
//
// Flow control is kept per stream and for the session (SPDY/3.1, initial 64 KiB each): we
// credit the peer with WINDOW_UPDATE as our reader takes its data. Go's spdystream, which
// kubelet's clients use, never sends WINDOW_UPDATE nor SETTINGS and ignores ours, so our send
// windows are enforced only once the peer has shown it does flow control (sent a WINDOW_UPDATE
// or an initial window SETTING); otherwise a stream would stall after 64 KiB.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import {
  encodeFrame,
  FLAG_FIN,
  FrameReader,
  RstStatus,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SpdyProtocolError,
  type Frame,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type HeaderMap } from './header-block.js';

export const DEFAULT_WINDOW = 64 * 1024;
/** DATA frames we send carry at most this much. */
const MAX_DATA_CHUNK = 32 * 1024;
/** Streams one peer may hold open at once; more are refused. */
const MAX_STREAMS = 256;
/** What one stream may buffer for a reader that does not read, before it is reset. */
const MAX_UNREAD = 16 * 1024 * 1024;

export interface SessionOptions {
  role: 'server' | 'client';
  logger?: Logger;
  /** The receive window we advertise per stream and for the session (default 64 KiB). */
  window?: number;
}

interface PendingWrite {
  chunk: Buffer;
  cb: (err?: Error | null) => void;
}

export class SpdyStream extends Duplex {
  /** The headers the opener sent in SYN_STREAM. */
  readonly headers: HeaderMap;
  /** Set once the peer answered our SYN_STREAM (client role). */
  replyHeaders: HeaderMap | null = null;
  /** The status of a RST_STREAM from the peer, when that is how the stream ended. */
  resetStatus: number | null = null;
  /** We sent FIN or RST: nothing more goes out. */
  private sentEnd = false;
  /** The peer sent FIN or RST. */
  remoteEnded = false;
  private replied: boolean;
  sendWindow: number;
  private unacked = 0;
  private pending: PendingWrite | null = null;
  private replyWaiters: ((err?: Error) => void)[] = [];

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    headers: HeaderMap,
    opts: { replied: boolean; sendWindow: number },
  ) {
    // Up to one window may wait for the reader before we stop crediting the peer.
    super({ allowHalfOpen: true, readableHighWaterMark: DEFAULT_WINDOW });
    this.headers = headers;
    this.replied = opts.replied;
    this.sendWindow = opts.sendWindow;
    // A write racing the peer's RST fails the write; nothing more to do about it than log.
    this.on('error', (err) => session.logger?.debug({ err, stream: id }, 'spdy: stream error'));
  }

  /** The first value of a header (names are lower-case). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Answers the peer's SYN_STREAM; DATA may follow only after it. */
  reply(headers: HeaderMap = {}): void {
    if (this.replied || this.sentEnd) return;
    this.replied = true;
    this.session.sendHeaders({ type: 'syn_reply', streamId: this.id, flags: 0 }, headers);
  }

  /** Ends the stream at once in both directions (RST_STREAM), dropping whatever is queued. */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.sentEnd) {
      this.sentEnd = true;
      this.session.sendControl({ type: 'rst_stream', streamId: this.id, status });
    }
    this.remoteEnded = true;
    this.failPending(new Error('stream reset'));
    this.destroy();
  }

  /** Resolves once our SYN_STREAM was answered. */
  whenReplied(): Promise<void> {
    if (this.replyHeaders) return Promise.resolve();
    return new Promise((resolve, reject) => this.replyWaiters.push((err) => (err ? reject(err) : resolve())));
  }

  // ---- from the session ----

  onReply(headers: HeaderMap): void {
    this.replyHeaders = headers;
    for (const w of this.replyWaiters.splice(0)) w();
  }

  onData(data: Buffer, fin: boolean): void {
    if (this.remoteEnded) {
      this.session.sendControl({ type: 'rst_stream', streamId: this.id, status: RstStatus.STREAM_ALREADY_CLOSED });
      return;
    }
    if (data.length > 0) {
      if (this.readableLength + data.length > MAX_UNREAD) {
        this.session.logger?.debug({ stream: this.id }, 'spdy: peer overran an unread stream');
        this.reset(RstStatus.FLOW_CONTROL_ERROR);
        return;
      }
      this.unacked += data.length;
      this.push(data);
      // push() reports false before the reader's first _read() even when it flows: judge by
      // what is actually waiting.
      if (this.readableLength <= this.readableHighWaterMark) this.credit();
    }
    if (fin) {
      this.remoteEnded = true;
      this.push(null);
      this.maybeDone();
    }
  }

  onReset(status: number): void {
    this.resetStatus = status;
    this.remoteEnded = true;
    this.sentEnd = true;
    this.failPending(new Error('stream reset by peer'));
    for (const w of this.replyWaiters.splice(0)) w(new Error(`stream reset by peer (status ${status})`));
    this.destroy();
  }

  onWindow(delta: number): void {
    this.sendWindow += delta;
    this.flushPending();
  }

  onSessionGone(): void {
    for (const w of this.replyWaiters.splice(0)) w(new Error('SPDY session closed'));
    this.failPending(new Error('SPDY session closed'));
    this.destroy();
  }

  // ---- Duplex ----

  override _read(): void {
    this.credit();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.sentEnd) {
      cb(new Error('write after the stream ended'));
      return;
    }
    this.pending = { chunk, cb };
    this.flushPending();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.sentEnd) {
      if (!this.replied) this.reply();
      this.sentEnd = true;
      this.session.sendData(this.id, Buffer.alloc(0), true);
    }
    cb();
    this.maybeDone();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (!this.sentEnd && !this.session.closed) {
      // Dropped by our side before it finished: tell the peer.
      this.sentEnd = true;
      this.session.sendControl({ type: 'rst_stream', streamId: this.id, status: RstStatus.CANCEL });
    }
    this.failPending(err ?? new Error('stream destroyed'));
    // Whatever was never read is gone: the session's window gets it back.
    if (this.unacked > 0) this.session.creditReceived(0, this.unacked);
    this.unacked = 0;
    this.session.forget(this.id);
    cb(err);
  }

  private credit(): void {
    if (this.unacked === 0) return;
    const n = this.unacked;
    this.unacked = 0;
    this.session.creditReceived(this.remoteEnded ? 0 : this.id, n);
  }

  private flushPending(): void {
    const p = this.pending;
    if (!p || this.sentEnd) return;
    if (!this.replied) this.reply();
    while (p.chunk.length > 0) {
      const allowed = this.session.sendAllowance(this.sendWindow);
      if (allowed <= 0) return; // resumed by a WINDOW_UPDATE
      const n = Math.min(allowed, MAX_DATA_CHUNK, p.chunk.length);
      this.sendWindow -= n;
      this.session.consumeSendWindow(n);
      const slice = p.chunk.subarray(0, n);
      p.chunk = p.chunk.subarray(n);
      if (p.chunk.length === 0) {
        this.pending = null;
        this.session.sendData(this.id, slice, false, () => p.cb());
        return;
      }
      this.session.sendData(this.id, slice, false);
    }
  }

  private failPending(err: Error): void {
    const p = this.pending;
    this.pending = null;
    if (p) p.cb(err);
  }

  private maybeDone(): void {
    // Both directions over: free the id now rather than when the consumer reads the end.
    if (this.sentEnd && this.remoteEnded && this.readableEnded) this.destroy();
  }
}

export class SpdySession extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly window: number;
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private readonly pings = new Map<number, () => void>();
  /** The peer's initial per-stream window (SETTINGS can change it). */
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerFlowControl = false;
  private peerSessionFlowControl = false;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  private goingAway = false;
  closed = false;
  /** Frames not yet handled, in wire order: header blocks inflate asynchronously. */
  private readonly inbox: Frame[] = [];
  private draining = false;
  /** Frames not yet written, in order; a frame with a header block waits for its compression. */
  private readonly outbox: { frame: Buffer | Promise<Buffer>; written?: () => void }[] = [];
  private pumping = false;
  readonly logger: Logger | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: SessionOptions,
    head?: Buffer,
  ) {
    super();
    this.logger = opts.logger;
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.nextStreamId = opts.role === 'client' ? 1 : 2;
    this.nextPingId = opts.role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) => {
      this.logger?.debug({ err }, 'spdy: socket error');
      this.teardown();
    });
    socket.on('close', () => this.teardown());
    socket.on('end', () => this.teardown());
    if (head && head.length > 0) queueMicrotask(() => this.onBytes(head));
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Opens a stream (client role); resolves once the peer's SYN_REPLY arrived. */
  async openStream(headers: HeaderMap, opts: { fin?: boolean } = {}): Promise<SpdyStream> {
    if (this.closed || this.goingAway) throw new Error('SPDY session is closing');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = new SpdyStream(this, id, headers, { replied: true, sendWindow: this.peerInitialWindow });
    this.streams.set(id, s);
    this.sendHeaders({ type: 'syn_stream', streamId: id, associatedId: 0, priority: 0, flags: opts.fin ? FLAG_FIN : 0 }, headers);
    if (opts.fin) s.end();
    await s.whenReplied();
    return s;
  }

  /** Sends a PING; resolves when the peer echoes it. */
  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    return new Promise((resolve) => {
      this.pings.set(id, resolve);
      this.sendControl({ type: 'ping', id });
    });
  }

  /** GOAWAY, then the socket ends once what is queued is written; open streams are dropped. */
  close(status = 0): void {
    if (this.closed) return;
    if (!this.goingAway) {
      this.goingAway = true;
      this.sendControl({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status });
    }
    // Streams still open are dropped; what is queued (their last DATA, the GOAWAY) goes out first.
    for (const st of [...this.streams.values()]) st.onSessionGone();
    const end = () => {
      this.socket.end();
      this.teardown();
    };
    if (this.pumping || this.outbox.length > 0) this.enqueue(Buffer.alloc(0), end);
    else end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  // ---- used by streams ----

  /** Queues a SYN_STREAM, SYN_REPLY or HEADERS frame; its block is compressed in queue order. */
  sendHeaders(
    f: Omit<Extract<Frame, { type: 'syn_stream' }>, 'block'> | Omit<Extract<Frame, { type: 'syn_reply' | 'headers' }>, 'block'>,
    headers: HeaderMap,
  ): void {
    if (this.closed) return;
    this.enqueue(this.compressor.compress(headers).then((block) => encodeFrame({ ...f, block } as Frame)));
  }

  sendControl(f: Frame): void {
    if (this.closed) return;
    this.enqueue(encodeFrame(f));
  }

  /** Queues DATA; `written` runs once the socket took it without pushing back. */
  sendData(streamId: number, data: Buffer, fin: boolean, written?: () => void): void {
    if (this.closed) {
      written?.();
      return;
    }
    this.enqueue(encodeFrame({ type: 'data', streamId, flags: fin ? FLAG_FIN : 0, data }), written);
  }

  private enqueue(frame: Buffer | Promise<Buffer>, written?: () => void): void {
    if (!this.pumping && this.outbox.length === 0 && Buffer.isBuffer(frame)) {
      this.write(frame, written);
      return;
    }
    this.outbox.push({ frame, written });
    if (!this.pumping) void this.pump();
  }

  private write(frame: Buffer, written?: () => void): void {
    if (this.socket.write(frame) || !written) {
      written?.();
      return;
    }
    this.onceDrain(written);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        const item = this.outbox.shift()!;
        let frame: Buffer;
        try {
          frame = await item.frame;
        } catch (err) {
          this.logger?.debug({ err }, 'spdy: cannot compress a header block');
          this.destroy();
          return;
        }
        if (this.closed) return;
        this.write(frame, item.written);
      }
    } finally {
      this.pumping = false;
      for (const item of this.outbox.splice(0)) item.written?.();
    }
  }

  onceDrain(cb: () => void): void {
    if (this.closed) {
      cb();
      return;
    }
    const done = () => {
      this.socket.off('drain', done);
      this.off('closed', done);
      cb();
    };
    this.socket.on('drain', done);
    this.on('closed', done);
  }

  /** How many bytes a stream with this window may send now. */
  sendAllowance(streamWindow: number): number {
    let n = Number.MAX_SAFE_INTEGER;
    if (this.peerFlowControl) n = Math.min(n, streamWindow);
    if (this.peerSessionFlowControl) n = Math.min(n, this.sessionSendWindow);
    return n;
  }

  consumeSendWindow(n: number): void {
    this.sessionSendWindow -= n;
  }

  /** Our reader took n bytes of a stream: give the peer that much window back (in halves). */
  creditReceived(streamId: number, n: number): void {
    const half = this.window / 2;
    if (streamId !== 0) {
      const s = this.streams.get(streamId) as (SpdyStream & { credited?: number }) | undefined;
      if (s) {
        s.credited = (s.credited ?? 0) + n;
        if (s.credited >= half) {
          this.sendControl({ type: 'window_update', streamId, delta: s.credited });
          s.credited = 0;
        }
      }
    }
    this.sessionUnacked += n;
    if (this.sessionUnacked >= half) {
      this.sendControl({ type: 'window_update', streamId: 0, delta: this.sessionUnacked });
      this.sessionUnacked = 0;
    }
  }

  forget(id: number): void {
    this.streams.delete(id);
    if (this.streams.size === 0) this.emit('idle');
  }

  // ---- input ----

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.inbox.push(...this.reader.push(chunk));
    } catch (err) {
      this.protocolError(err);
      return;
    }
    // A peer that floods us while a header block inflates waits in TCP, not in our memory.
    if (this.inbox.length > 1024) this.socket.pause();
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        const f = this.inbox.shift()!;
        const headers = 'block' in f ? await this.decompressor.decompress(f.block) : {};
        if (this.closed) return;
        this.onFrame(f, headers);
      }
    } catch (err) {
      this.protocolError(err);
    } finally {
      this.draining = false;
      if (!this.closed) this.socket.resume();
    }
  }

  private protocolError(err: unknown): void {
    this.logger?.debug({ err }, 'spdy: protocol error, closing the session');
    this.close(err instanceof SpdyProtocolError ? 1 : 2);
  }

  private onFrame(f: Frame, headers: HeaderMap): void {
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) {
          this.sendControl({ type: 'rst_stream', streamId: f.streamId, status: RstStatus.INVALID_STREAM });
          return;
        }
        s.onData(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'syn_stream': {
        const peerOdd = this.opts.role === 'server';
        if (f.streamId === 0 || (f.streamId % 2 === 1) !== peerOdd || f.streamId <= this.lastPeerStreamId) {
          throw new SpdyProtocolError(`bad stream id ${f.streamId} in SYN_STREAM`);
        }
        this.lastPeerStreamId = f.streamId;
        if (this.goingAway || this.streams.size >= MAX_STREAMS) {
          this.sendControl({ type: 'rst_stream', streamId: f.streamId, status: RstStatus.REFUSED_STREAM });
          return;
        }
        const s = new SpdyStream(this, f.streamId, headers, { replied: false, sendWindow: this.peerInitialWindow });
        this.streams.set(f.streamId, s);
        if (f.flags & FLAG_FIN) s.onData(Buffer.alloc(0), true);
        this.emit('stream', s);
        return;
      }
      case 'syn_reply': {
        this.streams.get(f.streamId)?.onReply(headers);
        if (f.flags & FLAG_FIN) this.streams.get(f.streamId)?.onData(Buffer.alloc(0), true);
        return;
      }
      case 'headers': {
        if (f.flags & FLAG_FIN) this.streams.get(f.streamId)?.onData(Buffer.alloc(0), true);
        return;
      }
      case 'rst_stream':
        this.streams.get(f.streamId)?.onReset(f.status);
        return;
      case 'settings':
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = e.value - this.peerInitialWindow;
          this.peerInitialWindow = e.value;
          this.peerFlowControl = true;
          for (const s of this.streams.values()) s.onWindow(delta);
        }
        return;
      case 'ping': {
        const ours = (f.id % 2 === 1) === (this.opts.role === 'client');
        if (ours) {
          const done = this.pings.get(f.id);
          this.pings.delete(f.id);
          done?.();
        } else {
          this.sendControl({ type: 'ping', id: f.id });
        }
        return;
      }
      case 'goaway':
        this.goingAway = true;
        this.emit('goaway', f.status);
        return;
      case 'window_update':
        if (f.streamId === 0) {
          this.peerSessionFlowControl = true;
          this.sessionSendWindow += f.delta;
          for (const s of this.streams.values()) s.onWindow(0);
        } else {
          this.peerFlowControl = true;
          this.streams.get(f.streamId)?.onWindow(f.delta);
        }
        return;
      case 'unknown':
        return;
    }
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.onSessionGone();
    this.streams.clear();
    for (const done of this.pings.values()) done();
    this.pings.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('closed');
    this.emit('close');
  }
}
