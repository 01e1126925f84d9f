// Yields the complete lines of a log file from an offset, and with `follow` keeps yielding as
// the file grows, across replacement of the file (rotation: a new inode at the same path).
// Lines come in batches, one per read: a 200 MB log is two million lines, and a generator's
// yield per line would cost more than everything else done with them.
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SystemError } from '../../errors.js';
import { ChangeWaiter } from './change-waiter.js';

const READ_SIZE = 64 * 1024;
const NEWLINE = 0x0a;

export interface FollowOptions {
  follow: boolean;
  /** Resolves when no more output can come: following ends once the file is drained after it. */
  stopped?: Promise<void>;
  signal?: AbortSignal;
}

export async function openIfExists(path: string): Promise<FileHandle | undefined> {
  let file: FileHandle;
  try {
    // A log path swapped for a link or a FIFO (by whoever can write the container's dir) must not
    // make `docker logs` a reader of another file, nor park a libuv worker in open().
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new SystemError('the container\'s log file is a symbolic link: not read');
    throw err;
  }
  if (!(await file.stat()).isFile()) {
    await file.close();
    throw new SystemError('the container\'s log file is not a regular file: not read');
  }
  return file;
}

/**
 * Lines from `file` (already open; undefined when the path did not exist) starting at `offset`,
 * in file order, as batches: each Buffer is one line including its newline; a batch is never
 * empty. The generator owns `file` and closes it.
 */
export async function* followLines(
  path: string,
  file: FileHandle | undefined,
  offset: number,
  opts: FollowOptions,
): AsyncGenerator<Buffer[]> {
  const { follow, signal } = opts;
  const waiter = follow ? new ChangeWaiter(path) : undefined;
  let stoppedSeen = false;
  const onStop = (): void => {
    stoppedSeen = true;
    waiter?.poke();
  };
  opts.stopped?.then(onStop, onStop);
  const onAbort = (): void => waiter?.poke();
  signal?.addEventListener('abort', onAbort, { once: true });
  let position = offset;
  let carry: Buffer | undefined;
  let finalPass = false;
  try {
    while (!signal?.aborted) {
      if (!file) {
        if (!follow) return;
        file = await openIfExists(path);
        if (!file) {
          if (stoppedSeen) {
            if (finalPass) return;
            finalPass = true;
            continue;
          }
          await waiter!.wait();
          continue;
        }
        position = 0;
        carry = undefined;
      }
      const chunk = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await file.read(chunk, 0, READ_SIZE, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const lines: Buffer[] = [];
        let start = 0;
        let nl = chunk.indexOf(NEWLINE, 0);
        while (nl >= 0 && nl < bytesRead) {
          const piece = chunk.subarray(start, nl + 1);
          if (carry) {
            lines.push(Buffer.concat([carry, piece]));
            carry = undefined;
          } else {
            lines.push(piece);
          }
          start = nl + 1;
          nl = chunk.indexOf(NEWLINE, start);
        }
        if (start < bytesRead) {
          const rest = chunk.subarray(start, bytesRead);
          carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
        }
        if (lines.length > 0) yield lines;
        continue;
      }
      // At the end of what is written so far.
      if (!follow) return;
      const replaced = await replacedOrTruncated(path, file, position);
      if (replaced === 'replaced') {
        // Everything the old file held has been read; what is left in `carry` never got its newline.
        await file.close();
        file = await openIfExists(path);
        position = 0;
        carry = undefined;
        continue;
      }
      if (replaced === 'truncated') {
        position = 0;
        carry = undefined;
        continue;
      }
      if (stoppedSeen) {
        // One more read after the stop was seen, so that output written just before it is included.
        if (finalPass) return;
        finalPass = true;
        continue;
      }
      await waiter!.wait();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    waiter?.close();
    await file?.close();
  }
}

async function replacedOrTruncated(path: string, file: FileHandle, position: number): Promise<'replaced' | 'truncated' | undefined> {
  const [current, opened] = await Promise.all([stat(path).catch(() => undefined), file.stat()]);
  if (current && (current.ino !== opened.ino || current.dev !== opened.dev)) return 'replaced';
  if (opened.size < position) return 'truncated';
  return undefined;
}
