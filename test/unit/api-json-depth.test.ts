// Request bodies nested deeper than Go's 10,000 levels are refused before JSON.parse builds them
// (the API fuzzer's 2,000,000-deep body grew the daemon by hundreds of MiB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonText } from '../../src/api/body.js';
import { InvalidParameterError } from '../../src/errors.js';
import { MAX_JSON_DEPTH, tooDeep } from '../../src/api/json-depth.js';

test('depth is counted outside strings only', () => {
  assert.equal(tooDeep('[[1]]', 2), undefined);
  assert.equal(tooDeep('[[[1]]]', 2), '[');
  assert.equal(tooDeep('{"a":{"b":{}}}', 2), '{');
  assert.equal(tooDeep('["[[[[", "{{{{\\"[[["]', 1), undefined);
  assert.equal(tooDeep('[1],[2],[3]', 1), undefined);
});

test('a body past Go max depth is a 400 with Go words; one at the limit parses', () => {
  const n = MAX_JSON_DEPTH;
  assert.deepEqual(parseJsonText(`${'['.repeat(n)}${']'.repeat(n)}`) !== undefined, true);
  assert.throws(() => parseJsonText(`${'['.repeat(n + 1)}${']'.repeat(n + 1)}`), (err: unknown) => err instanceof InvalidParameterError && /invalid character '\[' exceeded max depth/.test((err as Error).message));
  assert.throws(() => parseJsonText(`${'{"a":'.repeat(2_000_000)}1${'}'.repeat(2_000_000)}`), InvalidParameterError);
});
