// Log messages onto a response or a hijacked socket, as Docker sends them: moby's WriteLogStream
// (GET /logs) and the attach replay (logs=1) write once per message through a StdWriter, so each
// message is a frame of its own (a partial one too, as its PLogMetaData keeps it apart); with a
// TTY the bytes go as they are. Unlike moby, many messages share one write.
import type { Writable } from 'node:stream';
import type { LogEntry } from '../engine/logs/index.js';
import { drained } from './drain.js';
import { FrameBatcher, StdStream } from './stdcopy.js';

/** A batch goes out once it holds this much, or as soon as the reader waits for more. */
const BATCH_BYTES = 256 * 1024;

export interface LogMessagesOptions {
  /** No framing: the container has a TTY. */
  tty: boolean;
  /** Each message starts with its time and a space, as `docker logs -t` prints it. */
  timestamps?: boolean;
}

/**
 * Writes every entry to `out`, waiting whenever `out` asks to drain (a client that stops reading
 * holds the reader, not the daemon's memory). Returns when the entries end or `out` is gone;
 * what was batched is written before an error from `entries` is rethrown.
 */
export async function writeLogMessages(entries: AsyncIterable<LogEntry>, out: Writable, opts: LogMessagesOptions): Promise<void> {
  const batch = new FrameBatcher(opts.tty);
  const timestamps = opts.timestamps ?? false;
  let pending: NodeJS.Immediate | undefined;
  const flush = (): void => {
    pending = undefined;
    const buf = batch.take();
    if (buf && !out.destroyed) out.write(buf);
  };
  try {
    for await (const e of entries) {
      batch.push(e.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, e.data, timestamps ? `${e.time} ` : '');
      if (batch.size < BATCH_BYTES && !out.writableNeedDrain) {
        // the batch goes out when the reader next waits for the file
        pending ??= setImmediate(flush);
        continue;
      }
      clearImmediate(pending);
      flush();
      await drained(out);
      if (out.destroyed) return;
    }
  } finally {
    clearImmediate(pending);
    flush();
  }
}
