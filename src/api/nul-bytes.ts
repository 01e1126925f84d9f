// Client strings with a NUL byte are refused with a 400 before any handler runs. Node refuses them
// in paths and process arguments with its own error (a 500 whose message quoted the host path of a
// container's snapshot); the kernel would have cut them short. Query values, URL parameters and
// every string (and key) of a JSON body are checked; streamed bodies (tars, images) are not strings.
import type { FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../errors.js';

/** JSON bodies are capped (32 MiB) but may nest deeply; past this depth they are opaque data, not names. */
const MAX_DEPTH = 64;

/** Where in `value` a string holds a NUL byte (`Env[1]`, `Labels key`), or undefined. */
export function nulByteAt(value: unknown, where: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? where : undefined;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulByteAt(value[i], `${where}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const name = where ? `${where}.${key}` : key;
    if (key.includes('\0')) return `${where ? `${where} ` : ''}key`;
    const found = nulByteAt(v, name, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Throws a 400 naming the first query parameter, URL parameter or body field that holds a NUL byte. */
export function refuseNulBytes(request: Pick<FastifyRequest, 'query' | 'params' | 'body'>): void {
  const found =
    prefixed('query parameter ', nulByteAt(request.query, '')) ??
    prefixed('URL parameter ', nulByteAt(request.params, '')) ??
    nulByteAt(request.body, 'body');
  if (found) throw new InvalidParameterError(`invalid ${found}: contains a NUL byte`);
}

function prefixed(prefix: string, where: string | undefined): string | undefined {
  return where === undefined ? undefined : `${prefix}${where}`;
}
