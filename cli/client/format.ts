// Human-readable durations and sizes as docker prints them (github.com/docker/go-units).

// The daemon's STATUS column and the client's CREATED column use the same go-units rules.
import { humanDuration } from '../../src/engine/containers/status-text.js';
export { humanDuration };

/** "2 minutes ago", for a unix time in seconds. */
export function humanAgo(unixSeconds: number, nowMs = Date.now()): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal units, `%.*g` formatting. */
export function humanSizeWithPrecision(size: number, precision: number): string {
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** What `docker images` and `docker ps -s` print: 4.26MB. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 3);
}

/** Go's fmt `%.{precision}g`: shortest of %e/%f at that many significant digits, trailing zeros removed. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa, exp] = value.toExponential(precision - 1).split('e') as [string, string];
    const expNum = Number(exp);
    const expText = `${expNum < 0 ? '-' : '+'}${String(Math.abs(expNum)).padStart(2, '0')}`;
    return `${stripZeros(mantissa)}e${expText}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Go's time.Duration String for whole seconds: 1h2m3s, 4m0s, 5s. */
export function goDurationSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.trunc(totalSeconds));
  const h = Math.trunc(s / 3600);
  const m = Math.trunc((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** docker's formatter.Ellipsis: cut to `max` display characters, the last one becoming "…". */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 0) return '';
  return `${chars.slice(0, max - 1).join('')}…`;
}

export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return hex.slice(0, 12);
}
