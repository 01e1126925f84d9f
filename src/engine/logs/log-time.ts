// Time values used by `docker logs`: the API's since/until query form and the fixed-width
// RFC3339Nano form that Docker prints with --timestamps.
import { InvalidParameterError } from '../../errors.js';

const NS_PER_SECOND = 1_000_000_000n;
const UNIX_TIMESTAMP = /^(-?\d+)(?:\.(\d*))?$/;

/**
 * Parses the API's `<unix-seconds>[.<nanoseconds>]` form (moby's timetypes.ParseTimestamps).
 * The fraction is scaled by its digit count, so `1.5` is 1.5 s, as in moby. Empty means 0.
 */
export function parseLogTime(value: string): bigint {
  if (value === '') return 0n;
  const match = UNIX_TIMESTAMP.exec(value);
  if (!match || (match[2] !== undefined && match[2] === '')) {
    throw new InvalidParameterError(`invalid timestamp ${JSON.stringify(value)}: expected <unix-seconds>[.<nanoseconds>]`);
  }
  const seconds = BigInt(match[1]!);
  const fraction = (match[2] ?? '').slice(0, 9).padEnd(9, '0');
  // Like Go's time.Unix(sec, nsec): the fraction is added even to negative seconds.
  return seconds * NS_PER_SECOND + BigInt(fraction);
}

/** `2024-01-02T03:04:05.123456789Z`: always UTC and always 9 fractional digits (jsonmessage.RFC3339NanoFixed). */
export function formatRfc3339NanoFixed(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  const date = new Date(Number(seconds) * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  return `${date.slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z`;
}

// conmon writes local time with a numeric offset: 2026-11-28T14:48:05.200086653+00:00.
const K8S_TIMESTAMP = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):(\d\d))$/;

/** Parses a k8s-file timestamp into unix nanoseconds, or returns undefined when it is not one. */
export function parseK8sTimestamp(value: string): bigint | undefined {
  const m = K8S_TIMESTAMP.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  let seconds = BigInt(ms / 1000);
  if (m[8] !== 'Z') {
    const offset = Number(m[10]) * 3600 + Number(m[11]) * 60;
    seconds -= BigInt(m[9] === '-' ? -offset : offset);
  }
  const nanos = BigInt((m[7] ?? '').padEnd(9, '0'));
  return seconds * NS_PER_SECOND + nanos;
}
