// The resize stream of remotecommand v3+: a run of JSON objects {"Width":W,"Height":H} as Go's
// json.Encoder writes them (one per line), split across DATA frames wherever TCP cut them.

export interface TerminalSize {
  width: number;
  height: number;
}

/** Feeds bytes in, returns the sizes completed so far; junk between objects is skipped. */
export class ResizeDecoder {
  private text = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.text += chunk.toString();
    const out: TerminalSize[] = [];
    for (;;) {
      const start = this.text.indexOf('{');
      if (start < 0) {
        this.text = '';
        break;
      }
      const end = this.text.indexOf('}', start);
      if (end < 0) {
        this.text = this.text.slice(start);
        // a peer that never closes its object cannot make us hold much
        if (this.text.length > 4096) this.text = '';
        break;
      }
      const json = this.text.slice(start, end + 1);
      this.text = this.text.slice(end + 1);
      try {
        const v = JSON.parse(json) as { Width?: unknown; Height?: unknown };
        const width = Number(v.Width);
        const height = Number(v.Height);
        if (Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= 0xffff && height <= 0xffff) {
          out.push({ width, height });
        }
      } catch {
        // not JSON: dropped
      }
    }
    return out;
  }
}
