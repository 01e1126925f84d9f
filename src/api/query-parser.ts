// The query string as moby's handlers read it: a key a client repeats means its first value
// (Go's r.Form.Get), except for the few keys a handler reads every value of (r.Form[key]). Routes
// then see a string where they expect one: `?path=a&path=b` was an array that reached
// `path.startsWith` and answered 500 (found by the API fuzzer).
import { parse } from 'node:querystring';

/** Keys read as lists: commit/import `changes`, save `names`, df `type`, build `t` and `extrahosts`. */
const REPEATABLE = new Set(['changes', 'names', 'type', 't', 'extrahosts']);

export function parseQueryString(text: string): Record<string, string | string[]> {
  const query = parse(text) as Record<string, string | string[]>;
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value) && !REPEATABLE.has(key)) query[key] = value[0];
  }
  return query;
}
