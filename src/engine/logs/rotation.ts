// Docker's max-size/max-file for logs that conmon writes: conmon only appends to one file, so
// berth watches the size of each rotated container's log and, past max-size, shifts
// `log.1` -> `log.2` ..., renames `log` -> `log.1` and asks conmon to reopen (ctl message 2),
// which makes it start a fresh `log`. Lines written between the rename and the reopen land at the
// end of `log.1`, in order. One timer serves every watched container; containers without a
// max-size cost nothing. A log that is growing is looked at every FAST_MS (so it passes max-size
// by at most what the container writes in that time); a quiet one backs off to SLOW_MS.
import { rename, rm, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { LogRotation } from './config.js';
import { faultPoint } from '../../util/fault-point.js';

const FAST_MS = 50;
const SLOW_MS = 1000;

interface Watched extends LogRotation {
  logPath: string;
  rotating: boolean;
  lastSize: number;
  idleMs: number;
  nextAt: number;
}

export class LogRotator {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Tells the container's shim to reopen its log file (conmon's ctl FIFO). */
    private readonly reopen: (id: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  watch(id: string, logPath: string, rotation: LogRotation): void {
    this.watched.set(id, { ...rotation, logPath, rotating: false, lastSize: 0, idleMs: FAST_MS, nextAt: 0 });
    this.timer ??= setInterval(() => this.check(), FAST_MS).unref();
  }

  unwatch(id: string): void {
    this.watched.delete(id);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private check(): void {
    const now = Date.now();
    for (const [id, w] of this.watched) {
      if (w.rotating || now < w.nextAt) continue;
      w.rotating = true;
      void this.rotateIfFull(id, w)
        .catch((err) => this.logger.warn({ err, id }, 'log rotation failed'))
        .finally(() => (w.rotating = false));
    }
  }

  private async rotateIfFull(id: string, w: Watched): Promise<void> {
    const size = await stat(w.logPath).then((s) => s.size, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? -1 : 0));
    if (size === -1) {
      // shifted by a daemon killed before it asked conmon to reopen: conmon still writes into
      // `log.1`, which would grow without bound; conmon's reopen makes the live file again
      await this.reopen(id);
      return;
    }
    w.idleMs = size === w.lastSize ? Math.min(w.idleMs * 2, SLOW_MS) : FAST_MS;
    w.nextAt = Date.now() + w.idleMs;
    w.lastSize = size;
    if (size < w.maxSize) return;
    await shiftLogFiles(w.logPath, w.maxFile);
    faultPoint('logs.after-shift');
    await this.reopen(id);
  }
}

/** Makes room for the live file: the oldest kept file is dropped, the others move up by one. */
export async function shiftLogFiles(logPath: string, maxFile: number): Promise<void> {
  if (maxFile <= 1) {
    await rm(logPath, { force: true });
    return;
  }
  await rm(`${logPath}.${maxFile - 1}`, { force: true });
  for (let i = maxFile - 2; i >= 1; i--) {
    await rename(`${logPath}.${i}`, `${logPath}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await rename(logPath, `${logPath}.1`);
}
