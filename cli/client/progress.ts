// Renders Docker's JSON message streams (pull, push, load...) the way the docker CLI's jsonmessage
// package does: on a terminal one line per layer id, redrawn in place with ANSI cursor moves;
// elsewhere plain status lines without progress bars.
import { goDurationSeconds, humanSizeWithPrecision } from './format.js';

export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JsonMessage {
  status?: string;
  id?: string;
  from?: string;
  stream?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
  time?: number;
  timeNano?: number;
}

export interface TextSink {
  write(text: string): unknown;
}

/** The error a message stream reported (errorDetail, or the older `error` string). */
export class JsonMessageError extends Error {
  override name = 'JsonMessageError';
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

const ESC = '\x1b[';

/** The bar and counts for one progressDetail, as jsonmessage's JSONProgress.String. */
export function progressString(p: ProgressDetail, width: number, nowSeconds = Date.now() / 1000): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    return p.units ? `${current} ${p.units}` : humanSizeWithPrecision(current, 4).padStart(8);
  }
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) {
      const cur = humanSizeWithPrecision(current, 4);
      numbers = current > total ? cur.padStart(8) : `${cur.padStart(8)}/${humanSizeWithPrecision(total, 4)}`;
    } else {
      numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  let timeLeft = '';
  if (current > 0 && p.start && p.start > 0 && percentage < 50 && width > 50) {
    const perEntry = (nowSeconds - p.start) / current;
    timeLeft = ` ${goDurationSeconds((total - current) * perEntry)}`;
  }
  return bar + numbers + timeLeft;
}

export class JsonMessageRenderer {
  // Line number (from the top of the progress block) of each id that shows progress.
  private lines = new Map<string, number>();

  constructor(
    private readonly out: TextSink,
    private readonly isTerminal: boolean,
    private readonly width = 200,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** Renders one message; throws JsonMessageError for an error message. */
  render(msg: JsonMessage): void {
    if (msg.aux !== undefined) return;
    const hasProgress = msg.progressDetail !== undefined && msg.progressDetail !== null;
    let diff = 0;
    if (msg.id && (hasProgress || msg.progress)) {
      let line = this.lines.get(msg.id);
      if (line === undefined) {
        line = this.lines.size;
        this.lines.set(msg.id, line);
        if (this.isTerminal) this.out.write('\n');
      }
      diff = this.lines.size - line;
      if (this.isTerminal && diff > 0) this.out.write(`${ESC}${diff}A`);
    } else {
      // Anything else ends the progress block: later ids start below it.
      this.lines = new Map();
    }
    try {
      this.display(msg, hasProgress);
    } finally {
      if (msg.id && this.isTerminal && diff > 0) this.out.write(`${ESC}${diff}B`);
    }
  }

  private display(msg: JsonMessage, hasProgress: boolean): void {
    if (msg.errorDetail?.message || msg.error) {
      throw new JsonMessageError(msg.errorDetail?.message ?? msg.error ?? 'unknown error', msg.errorDetail?.code);
    }
    const bar = hasProgress ? progressString(msg.progressDetail!, this.width, this.now()) : '';
    let endl = '';
    if (this.isTerminal && !msg.stream && hasProgress) {
      this.out.write(`${ESC}2K\r`);
      endl = '\r';
    } else if (hasProgress && bar !== '') {
      return; // no progress bars off a terminal
    }
    let text = '';
    if (msg.timeNano) text += `${new Date(msg.timeNano / 1e6).toISOString()} `;
    else if (msg.time) text += `${new Date(msg.time * 1000).toISOString()} `;
    if (msg.id) text += `${msg.id}: `;
    if (msg.from) text += `(from ${msg.from}) `;
    if (hasProgress && this.isTerminal) text += `${msg.status ?? ''} ${bar}${endl}`;
    else if (msg.progress) text += `${msg.status ?? ''} ${msg.progress}${endl}`;
    else if (msg.stream) text += `${msg.stream}${endl}`;
    else text += `${msg.status ?? ''}${endl}\n`;
    this.out.write(text);
  }
}

/** Splits a stream of concatenated JSON objects (newline or \r\n separated) into messages. */
export class JsonMessageSplitter {
  private buffer = '';

  push(chunk: string): JsonMessage[] {
    this.buffer += chunk;
    const out: JsonMessage[] = [];
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) out.push(JSON.parse(line) as JsonMessage);
      nl = this.buffer.indexOf('\n');
    }
    return out;
  }

  end(): JsonMessage[] {
    const line = this.buffer.trim();
    this.buffer = '';
    return line ? [JSON.parse(line) as JsonMessage] : [];
  }
}

/** The messages of a JSON progress stream (pull, push, build, load) as they arrive. */
export async function* jsonMessages(res: AsyncIterable<unknown> & { setEncoding(enc: BufferEncoding): unknown }): AsyncGenerator<JsonMessage> {
  const splitter = new JsonMessageSplitter();
  res.setEncoding('utf8');
  for await (const chunk of res) yield* splitter.push(chunk as string);
  yield* splitter.end();
}
