import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import { boolParam, intParam, listParam, stringParam, timestampParam } from '../../src/api/query.js';

test("boolParam follows moby's BoolValue", () => {
  for (const v of ['', '0', 'no', 'false', 'none', 'FALSE', 'No', ' none ']) assert.equal(boolParam(v, true), false, v);
  for (const v of ['1', 'true', 'True', 'yes', 'x', 'on']) assert.equal(boolParam(v, false), true, v);
  assert.equal(boolParam(undefined, true), true);
  assert.equal(boolParam(undefined), false);
  assert.equal(boolParam(['0', '1'], true), false, 'first value wins');
});

test('intParam parses integers and rejects garbage with a 400', () => {
  assert.equal(intParam('10', 't'), 10);
  assert.equal(intParam('-1', 'limit'), -1);
  assert.equal(intParam('+5', 'n'), 5);
  assert.equal(intParam(undefined, 't'), undefined);
  assert.equal(intParam('', 't', 7), 7);
  assert.equal(intParam(undefined, 't', 7), 7);
  for (const bad of ['abc', '1.5', '10s', ' 1', '99999999999999999999']) {
    assert.throws(() => intParam(bad, 't'), (err: unknown) => err instanceof InvalidParameterError && /\bt\b/.test(err.message), bad);
  }
});

test('stringParam, listParam', () => {
  assert.equal(stringParam(undefined, 'd'), 'd');
  assert.equal(stringParam(['a', 'b']), 'a');
  assert.deepEqual(listParam(['a', 'b']), ['a', 'b']);
  assert.deepEqual(listParam('a'), ['a']);
  assert.deepEqual(listParam(undefined), []);
});

test('timestampParam reads <seconds>[.<nanos>] as nanoseconds', () => {
  assert.equal(timestampParam('1700000000', 'since'), 1_700_000_000_000_000_000n);
  assert.equal(timestampParam('1700000000.5', 'since'), 1_700_000_000_500_000_000n);
  assert.equal(timestampParam('1700000000.000000001', 'since'), 1_700_000_000_000_000_001n);
  assert.equal(timestampParam('', 'since'), undefined);
  assert.throws(() => timestampParam('yesterday', 'since'), InvalidParameterError);
});
