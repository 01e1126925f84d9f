// Query-string values with moby's httputils rules (BoolValue, Int64ValueOrDefault...).
import { InvalidParameterError } from '../errors.js';

export type QueryValue = string | string[] | undefined;
export type Query = Record<string, QueryValue>;

/** Go's r.FormValue: the first value of a repeated key. */
export function firstValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** Absent -> `defaultValue`; '', 0, no, false, none (any case, trimmed) -> false; anything else -> true. */
export function boolParam(value: unknown, defaultValue = false): boolean {
  const s = firstValue(value);
  if (s === undefined) return defaultValue;
  const v = s.trim().toLowerCase();
  return !(v === '' || v === '0' || v === 'no' || v === 'false' || v === 'none');
}

const INTEGER = /^[+-]?[0-9]+$/;

/**
 * A decimal integer; absent or empty -> `defaultValue`; anything else that is not an integer
 * (or does not fit in a safe JS integer) -> 400 naming the parameter.
 */
export function intParam(value: unknown, name: string): number | undefined;
export function intParam(value: unknown, name: string, defaultValue: number): number;
export function intParam(value: unknown, name: string, defaultValue?: number): number | undefined {
  const s = firstValue(value);
  if (s === undefined || s === '') return defaultValue;
  if (!INTEGER.test(s)) {
    throw new InvalidParameterError(`invalid value for ${name}: strconv.ParseInt: parsing "${s}": invalid syntax`);
  }
  const n = Number(s);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidParameterError(`invalid value for ${name}: strconv.ParseInt: parsing "${s}": value out of range`);
  }
  return n;
}

/** A string parameter; absent -> `defaultValue`. */
export function stringParam(value: unknown): string | undefined;
export function stringParam(value: unknown, defaultValue: string): string;
export function stringParam(value: unknown, defaultValue?: string): string | undefined {
  return firstValue(value) ?? defaultValue;
}

/** Every value of a repeatable parameter (e.g. `?changes=a&changes=b`). */
export function listParam(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  const s = firstValue(value);
  return s === undefined ? [] : [s];
}

/**
 * A `<seconds>[.<nanoseconds>]` timestamp as the CLI sends for since/until (logs, events);
 * returns nanoseconds since the epoch as a bigint, or undefined when absent/empty.
 */
export function timestampParam(value: unknown, name: string): bigint | undefined {
  const s = firstValue(value);
  if (s === undefined || s === '') return undefined;
  const match = /^(-?[0-9]+)(?:\.([0-9]{1,9}))?$/.exec(s);
  if (!match) throw new InvalidParameterError(`invalid value for ${name}: ${s}`);
  const seconds = BigInt(match[1]!);
  const nanos = BigInt((match[2] ?? '0').padEnd(9, '0'));
  return seconds * 1_000_000_000n + (seconds < 0n ? -nanos : nanos);
}
