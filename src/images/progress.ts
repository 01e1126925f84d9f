// Docker's JSON progress messages (pkg/jsonmessage, pkg/progress): the pre-rendered bar
// and sizes printed the way go-units' HumanSize does.
import type { JsonMessage, ProgressFn } from './types.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize: 4 significant digits, decimal units ('1.049MB', '512B'). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${DECIMAL_UNITS[i]}`;
}

/** JSONProgress.String() for a wide terminal (the daemon renders with no window size). */
export function renderProgress(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

export function statusMsg(status: string, id?: string): JsonMessage {
  return id === undefined ? { status } : { status, progressDetail: {}, id };
}

export function progressMsg(status: string, id: string, current: number, total: number): JsonMessage {
  return { status, progressDetail: { current, total }, progress: renderProgress(current, total), id };
}

/** Rate-limit byte progress to one message per `intervalMs` (Docker sends about 10/s). */
export function throttledProgress(progress: ProgressFn, status: string, id: string, total: number, intervalMs = 100): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (now - last < intervalMs && current < total) return;
    last = now;
    progress(progressMsg(status, id, current, total));
  };
}
