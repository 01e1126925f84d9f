// Finds where the last N lines of a k8s-file log begin by reading the file backwards in blocks,
// so that `--tail 10` on a huge log reads a few kilobytes, not the whole file.
import type { FileHandle } from 'node:fs/promises';
import { parseK8sHeader } from './k8s-file-line.js';

const BLOCK_SIZE = 64 * 1024;
// Enough for the longest header conmon writes ("1997-03-25T13:20:42.999999999+01:00 stdout P ").
const HEADER_PEEK = 64;
const NEWLINE = 0x0a;

/**
 * Where the last N lines start. Because stdout and stderr interleave, the P chunks that begin a
 * stdout message may lie before a stderr message that is not part of the tail: `streamStart`
 * holds, per stream, the offset of its first chunk in the tail, and `start` is the smallest.
 * Chunks of a stream not in `streamStart` belong to the tail from `defaultStart` on.
 */
export interface TailStart {
  start: number;
  defaultStart: number;
  streamStart: Map<string, number>;
  /** Lines found from `start` on: fewer than asked when the file holds fewer (read the file before it). */
  counted: number;
}

/**
 * Finds the last `lines` log lines, counting as Docker does: one line per message that ended
 * with a newline, so the P chunks before an F chunk of the same stream belong to its line, and an
 * unfinished message at the end counts as one line. All streams count (Docker applies tail before
 * its stdout/stderr selection). `lines < 0` means all. Bytes after the last newline (a write in
 * progress) are never part of the tail.
 */
export async function findTailStart(file: FileHandle, size: number, lines: number): Promise<TailStart> {
  const whole = (offset: number): TailStart => ({ start: offset, defaultStart: offset, streamStart: new Map(), counted: 0 });
  if (lines < 0) return whole(0);
  let blockEnd = size;
  let regionEnd = -1; // offset just after the last complete line
  let lineEnd = -1; // end of the line whose start we are looking for
  let laterHead = Buffer.alloc(0);
  let counted = 0;
  const streamsWithLaterChunk = new Set<string>();
  // Once N lines are counted: the streams whose earliest counted message may have earlier P chunks.
  let open: Set<string> | undefined;
  let defaultStart = 0;
  const streamStart = new Map<string, number>();
  const finish = (): TailStart => {
    for (const stream of open ?? []) streamStart.set(stream, 0);
    const start = Math.min(defaultStart, ...streamStart.values());
    return { start, defaultStart, streamStart, counted };
  };

  while (blockEnd > 0) {
    const blockStart = Math.max(0, blockEnd - BLOCK_SIZE);
    const block = Buffer.allocUnsafe(blockEnd - blockStart);
    await readFully(file, block, blockStart);
    const window = laterHead.length > 0 ? Buffer.concat([block, laterHead]) : block;

    let searchFrom = block.length - 1;
    while (searchFrom >= -1) {
      const nl = searchFrom >= 0 ? block.lastIndexOf(NEWLINE, searchFrom) : -1;
      const atFileStart = nl < 0 && blockStart === 0;
      if (nl < 0 && !atFileStart) break; // the line starts in an earlier block
      const lineStart = blockStart + nl + 1;
      if (regionEnd < 0) {
        // The first newline found from the end closes the last complete line.
        regionEnd = lineStart;
        lineEnd = lineStart;
        if (lines === 0) return whole(regionEnd);
      } else if (lineStart < lineEnd) {
        const rel = lineStart - blockStart;
        const header = parseK8sHeader(window.subarray(rel, Math.min(window.length, rel + HEADER_PEEK)));
        if (header) {
          const endsMessage = !header.partial || !streamsWithLaterChunk.has(header.stream);
          if (open) {
            if (endsMessage && open.delete(header.stream)) {
              streamStart.set(header.stream, lineEnd);
              if (open.size === 0) return finish();
            }
          } else if (endsMessage && counted === lines) {
            defaultStart = lineEnd;
            open = new Set(streamsWithLaterChunk);
            open.delete(header.stream);
            if (open.size === 0) return finish();
          } else {
            if (endsMessage) counted++;
            streamsWithLaterChunk.add(header.stream);
          }
        }
        lineEnd = lineStart;
      }
      if (atFileStart) return finish();
      searchFrom = nl - 1; // -1 when the newline is the block's first byte
    }
    laterHead = Buffer.from(block.subarray(0, Math.min(block.length, HEADER_PEEK)));
    blockEnd = blockStart;
  }
  return finish();
}

async function readFully(file: FileHandle, into: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error('log file shrank while reading its tail');
    done += bytesRead;
  }
}
