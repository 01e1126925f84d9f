// Docker's multiplexed stream (stdcopy): 8-byte frame headers [type, 0, 0, 0, uint32 BE length],
// type 0 stdin, 1 stdout, 2 stderr, 3 system error.

export type FrameSink = (stream: number, payload: Buffer) => void;

/** Feeds bytes in any split; calls `sink` once per complete frame. */
export class FrameDemuxer {
  private pending = Buffer.alloc(0);

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 8) {
      const length = buf.readUInt32BE(4);
      if (buf.length < 8 + length) break;
      this.sink(buf[0]!, buf.subarray(8, 8 + length));
      buf = buf.subarray(8 + length);
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
  }

  /** Bytes of an unfinished frame left at the end of the stream. */
  get leftover(): number {
    return this.pending.length;
  }
}
