// Go's encoding/json decoder texts for request bodies of the wrong shape: clients (and their
// tests) match them, so every body decoder in the engine words them the same way.
import { InvalidParameterError } from '../errors.js';

export type Json = Record<string, unknown>;

export function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON type as Go's decoder names it in an UnmarshalTypeError. */
export function goJsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/** `json: cannot unmarshal <type> into Go struct field <field> of type <want>` (400). */
export function wrongFieldType(field: string, v: unknown, want: string): InvalidParameterError {
  return new InvalidParameterError(`json: cannot unmarshal ${goJsonType(v)} into Go struct field ${field} of type ${want}`);
}

/** `json: cannot unmarshal <type> into Go value of type <want>` (400): the body itself. */
export function wrongValueType(v: unknown, want: string): InvalidParameterError {
  return new InvalidParameterError(`json: cannot unmarshal ${goJsonType(v)} into Go value of type ${want}`);
}

/** Go's strconv.ParseBool; undefined for what it refuses (each caller words its own error). */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}
