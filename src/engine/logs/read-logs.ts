// `docker logs` over conmon's k8s-file log: tail, since/until, stream selection and follow.
import { findTailStart, type TailStart } from './tail-offset.js';
import { followLines, openIfExists } from './follow-lines.js';
import { parseK8sLine, type LogStream } from './k8s-file-line.js';
import { formatRfc3339NanoFixed } from './log-time.js';

export interface LogEntry {
  stream: LogStream;
  timeNs: bigint;
  /** RFC3339Nano UTC with 9 fractional digits, as `docker logs -t` prints it. */
  time: string;
  /** The chunk's bytes exactly as written, newline included unless `partial`. */
  data: Buffer;
  /** The message continues in the next entry of the same stream. */
  partial: boolean;
}

export interface ReadLogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix nanoseconds; entries before it are skipped. */
  since?: bigint;
  /** Unix nanoseconds; reading ends at the first entry after it. */
  until?: bigint;
  /** Last N lines (messages ending in a newline); -1 or undefined = all. */
  tail?: number;
  follow?: boolean;
  /** Resolves when the container has exited: following ends once the file is drained after that. */
  stopped?: Promise<void>;
  signal?: AbortSignal;
}

export async function* readLogs(path: string, opts: ReadLogsOptions): AsyncGenerator<LogEntry> {
  if (!opts.stdout && !opts.stderr) return;
  const follow = opts.follow ?? false;
  const file = await openIfExists(path);
  let tail: TailStart | undefined;
  if (file && opts.tail !== undefined && opts.tail >= 0) {
    try {
      const { size } = await file.stat();
      tail = await findTailStart(file, size, opts.tail);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  const untilTimer = follow && opts.until !== undefined ? stopAtUntil(opts.until, opts.stopped) : undefined;
  try {
    // Offsets only matter up to tail.defaultStart, which lies in the file opened here: a rotated
    // file is read to its end before the new one, so the running sum stays right until then.
    let offset = tail?.start ?? 0;
    const lines = followLines(path, file, offset, {
      follow,
      stopped: untilTimer?.stopped ?? opts.stopped,
      signal: opts.signal,
    });
    for await (const line of lines) {
      const lineOffset = offset;
      offset += line.length;
      const entry = parseK8sLine(line);
      if (!entry) continue;
      if (tail && lineOffset < tail.defaultStart && lineOffset < (tail.streamStart.get(entry.stream) ?? tail.defaultStart)) continue;
      if (opts.until !== undefined && entry.timeNs > opts.until) return;
      if (opts.since !== undefined && entry.timeNs < opts.since) continue;
      if (entry.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
      yield { ...entry, time: formatRfc3339NanoFixed(entry.timeNs) };
    }
  } finally {
    untilTimer?.cancel();
  }
}

// Following with `until` ends when the wall clock passes it, even if the container stays silent.
function stopAtUntil(until: bigint, stopped: Promise<void> | undefined): { stopped: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const delayMs = Number((until - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
  const reached = new Promise<void>((resolve) => {
    // setTimeout caps delays at 2^31-1 ms; a later `until` just waits for `stopped`.
    if (delayMs < 2 ** 31 - 1) timer = setTimeout(resolve, Math.max(0, delayMs) + 1);
  });
  const both = stopped ? Promise.race([reached, stopped]) : reached;
  return { stopped: both, cancel: () => clearTimeout(timer) };
}
