// One progress line for bytes moving through the client (save writing a file, load and build
// sending an archive), drawn as jsonmessage draws a layer's bar: on a terminal only, redrawn in
// place; elsewhere nothing, so scripts see the same output as before.
import { Transform } from 'node:stream';
import { progressString } from './progress.js';
import type { OutputStream } from './context.js';

const REDRAW_MS = 100;

export class ByteProgress {
  private bytes = 0;
  private lastDraw = 0;
  private readonly start = Date.now() / 1000;
  private active: boolean;
  private ended = false;

  constructor(
    private readonly out: OutputStream,
    private readonly label: string,
    private readonly total = 0,
    /** Off a terminal, still print the final count once (as the CLI's "Sending build context" line). */
    private readonly finalLine = false,
  ) {
    this.active = out.isTTY === true;
  }

  add(n: number): void {
    this.bytes += n;
    const now = Date.now();
    if (this.active && now - this.lastDraw >= REDRAW_MS) {
      this.lastDraw = now;
      this.draw('\r');
    }
  }

  /** A Transform that counts what passes through it; its end ends the line. */
  counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.add(chunk.length);
        cb(null, chunk);
      },
      flush: (cb) => {
        this.done();
        cb();
      },
    });
  }

  /** The last drawing, and the line ended; later calls do nothing. */
  done(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.active || this.finalLine) this.draw('\n');
    this.active = false;
  }

  private draw(end: string): void {
    const detail = { current: this.bytes, total: this.total, start: this.start };
    const clear = this.out.isTTY === true ? '\x1b[2K\r' : '';
    this.out.write(`${clear}${this.label} ${progressString(detail, this.out.columns ?? 200)}${end}`);
  }
}
