// conmon's control FIFO (`<bundle>/ctl`): one line per message, `<type> <a> <b>\n` (type 1:
// resize the terminal to a rows x b columns; 2: reopen the log file).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, errorMessage } from '../errors.js';

/**
 * Sends one message. A FIFO without a reader means conmon is gone (the task ended); so does a
 * reader that leaves between the open and the write (EPIPE): both are a ConflictError, for the
 * caller to word as "not running".
 */
export async function sendConmonCtl(dir: string, type: number, a: number, b: number, what: string): Promise<void> {
  let ctl;
  try {
    // Non-blocking: opening a FIFO without a reader must fail, not hang.
    ctl = await open(join(dir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ConflictError(`cannot ${what}: ${errorMessage(err)}`);
  }
  try {
    await ctl.write(`${type} ${Math.trunc(a)} ${Math.trunc(b)}\n`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new ConflictError(`cannot ${what}: conmon has exited`);
    throw err;
  } finally {
    await ctl.close();
  }
}
