// `docker logs` over conmon's k8s-file log: tail, since/until, stream selection and follow.
import type { FileHandle } from 'node:fs/promises';
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { findTailStart, type TailStart } from './tail-offset.js';
import { followLines, openIfExists } from './follow-lines.js';
import { parseK8sLine, type LogStream } from './k8s-file-line.js';

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
  // Every file is opened first: a rotation while we read renames paths, not open files.
  const rotated = await openRotated(path);
  const file = await openIfExists(path).catch(async (err: unknown) => {
    await Promise.all(rotated.map((s) => s.file?.close()));
    throw err;
  });
  const sources: { path: string; file: FileHandle | undefined; tail?: TailStart }[] = [...rotated, { path, file }];
  let first = 0;
  try {
    if (opts.tail !== undefined && opts.tail >= 0) first = await placeTail(sources, opts.tail);
  } catch (err) {
    await Promise.all(sources.map((s) => s.file?.close()));
    throw err;
  }
  await Promise.all(sources.slice(0, first).map((s) => s.file?.close()));

  const untilTimer = follow && opts.until !== undefined ? stopAtUntil(opts.until, opts.stopped) : undefined;
  try {
    for (let i = first; i < sources.length; i++) {
      const src = sources[i]!;
      const live = i === sources.length - 1;
      // Offsets only matter up to tail.defaultStart, which lies in the file opened here: a rotated
      // file is read to its end before the new one, so the running sum stays right until then.
      let offset = src.tail?.start ?? 0;
      const lines = followLines(src.path, src.file, offset, {
        follow: live && follow,
        stopped: untilTimer?.stopped ?? opts.stopped,
        signal: opts.signal,
      });
      sources[i] = { path: src.path, file: undefined };
      const tail = src.tail;
      for await (const batch of lines) {
        for (const line of batch) {
          const lineOffset = offset;
          offset += line.length;
          const entry = parseK8sLine(line);
          if (!entry) continue;
          if (tail && lineOffset < tail.defaultStart && lineOffset < (tail.streamStart.get(entry.stream) ?? tail.defaultStart)) continue;
          if (opts.until !== undefined && entry.timeNs > opts.until) return;
          if (opts.since !== undefined && entry.timeNs < opts.since) continue;
          if (entry.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
          yield entry;
        }
      }
    }
  } finally {
    untilTimer?.cancel();
    await Promise.all(sources.map((s) => s.file?.close()));
  }
}

/** `<log>.N` ... `<log>.1` (berth's rotation: a higher number is older), oldest first. */
async function openRotated(path: string): Promise<{ path: string; file: FileHandle | undefined }[]> {
  const base = basename(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const numbers = names
    .filter((n) => n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)))
    .map((n) => Number(n.slice(base.length + 1)))
    .sort((a, b) => b - a);
  const opened = await Promise.all(numbers.map(async (n) => ({ path: `${path}.${n}`, file: await openIfExists(`${path}.${n}`) })));
  return opened.filter((o) => o.file);
}

/** Where the last `lines` lines begin, newest file first; returns the index of the first file to read. */
async function placeTail(sources: { file: FileHandle | undefined; tail?: TailStart }[], lines: number): Promise<number> {
  let remaining = lines;
  for (let i = sources.length - 1; i >= 0; i--) {
    const file = sources[i]!.file;
    if (!file) continue;
    const tail = await findTailStart(file, (await file.stat()).size, remaining);
    sources[i]!.tail = tail;
    if (tail.counted >= remaining || tail.start > 0) return i;
    remaining -= tail.counted;
  }
  return 0;
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
