// A SOCK_SEQPACKET client over berth's addon (native/seqpacket) with flow control both ways:
// pause() stops reading the descriptor, so the kernel's receive buffer fills and the peer's
// writes block (conmon's attach socket is blocking on its side: the container's output then
// waits, as under Docker when an attach client is slow); write() completes only when the kernel
// took the packet.
import { createRequire } from 'node:module';
import type * as Native from 'berth-seqpacket';
import { SystemError } from '../errors.js';

const native = createRequire(import.meta.url)('berth-seqpacket') as typeof Native;

/** Packets read per poll event before the loop gets a turn (the poll is level-triggered). */
const PACKETS_PER_TURN = 64;
/** Retries of a connect that finds the listener's backlog full (EAGAIN), 10 ms apart. */
const CONNECT_RETRIES = 100;

export interface PacketHandlers {
  /** One packet; return false to pause reading until resume(). */
  packet(data: Buffer): boolean;
  /** The peer closed (err undefined) or the socket failed; the socket is closed after this. */
  end(err?: Error): void;
}

interface PendingWrite {
  data: Buffer;
  offset: number;
  length: number;
  done: (err?: Error) => void;
}

function systemError(err: unknown): SystemError {
  return new SystemError((err as Error).message ?? String(err));
}

export class SeqpacketSocket {
  private reading = true;
  private watching = 0;
  private closed = false;
  private readonly writes: PendingWrite[] = [];
  private shutdownAfterWrites: (() => void) | null = null;

  private constructor(
    private readonly handle: Native.Handle,
    private readonly on: PacketHandlers,
  ) {}

  /** Connects and starts reading. */
  static async connect(path: string, on: PacketHandlers): Promise<SeqpacketSocket> {
    for (let attempt = 0; ; attempt++) {
      try {
        const socket = new SeqpacketSocket(native.connect(path), on);
        socket.update();
        return socket;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= CONNECT_RETRIES) throw systemError(err);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  pause(): void {
    this.reading = false;
    this.update();
  }

  resume(): void {
    this.reading = true;
    this.update();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends data[offset, offset+length) as one packet; done() once the kernel took it. */
  write(data: Buffer, offset: number, length: number, done: (err?: Error) => void): void {
    if (this.closed) {
      done(new SystemError('attach connection is closed'));
      return;
    }
    this.writes.push({ data, offset, length, done });
    this.flushWrites();
  }

  /** Half-close once the queued packets are sent: the peer reads end of stream. */
  shutdownWrite(done: () => void): void {
    this.shutdownAfterWrites = () => {
      try {
        if (!this.closed) native.shutdownWrite(this.handle);
      } catch {
        // the peer is gone already
      }
      done();
    };
    if (this.writes.length === 0) this.runShutdown();
  }

  close(err: Error = new SystemError('attach connection is closed')): void {
    if (this.closed) return;
    this.closed = true;
    native.close(this.handle);
    for (const w of this.writes.splice(0)) w.done(err);
    this.runShutdown();
  }

  private runShutdown(): void {
    const s = this.shutdownAfterWrites;
    this.shutdownAfterWrites = null;
    s?.();
  }

  private update(): void {
    if (this.closed) return;
    const want = (this.reading ? native.READABLE : 0) | (this.writes.length > 0 ? native.WRITABLE : 0);
    if (want === this.watching) return;
    this.watching = want;
    native.watch(this.handle, want, this.onEvent);
  }

  private readonly onEvent = (status: number, events: number): void => {
    if (this.closed) return;
    if (status < 0) {
      this.fail(new SystemError(`attach socket poll failed (${status})`));
      return;
    }
    if (events & native.WRITABLE) this.flushWrites();
    if (events & native.READABLE) this.readSome();
  };

  private readSome(): void {
    for (let i = 0; i < PACKETS_PER_TURN && this.reading && !this.closed; i++) {
      let packet: Buffer | null | undefined;
      try {
        packet = native.recv(this.handle);
      } catch (err) {
        this.fail(systemError(err));
        return;
      }
      if (packet === undefined) return;
      if (packet === null) {
        this.close();
        this.on.end();
        return;
      }
      if (!this.on.packet(packet)) this.pause();
    }
  }

  private flushWrites(): void {
    while (this.writes.length > 0 && !this.closed) {
      const w = this.writes[0]!;
      let sent: boolean;
      try {
        sent = native.send(this.handle, w.data, w.offset, w.length);
      } catch (err) {
        this.fail(systemError(err));
        return;
      }
      if (!sent) break;
      this.writes.shift();
      w.done();
    }
    if (this.writes.length === 0) this.runShutdown();
    this.update();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.close(err);
    this.on.end(err);
  }
}
