// Detach key detection on a TTY exec's stdin (moby/term EscapeProxy): bytes that start the
// sequence are held back until it either completes (detach) or breaks (they are passed on).

export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11]; // ctrl-p, ctrl-q

export class DetachKeyMatcher {
  private matched = 0;

  constructor(private readonly keys: readonly number[]) {}

  /** Feed client bytes; returns what goes to the process and whether the sequence completed. */
  feed(chunk: Buffer): { pass: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.matched = 0;
          return { pass: Buffer.from(out), detached: true };
        }
        continue;
      }
      // A broken sequence: the held-back bytes were ordinary input after all.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = byte === this.keys[0] ? 1 : 0;
      if (this.matched === 0) out.push(byte);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
