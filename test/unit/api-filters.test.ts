import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import { Filters } from '../../src/api/filters.js';
import { filterContainers } from '../../src/engine/containers/filters.js';

test('both JSON forms parse to the same filters', () => {
  const modern = Filters.parse('{"label":{"a=b":true,"c":true},"status":{"running":true}}');
  const legacy = Filters.parse('{"label":["a=b","c"],"status":["running"]}');
  for (const f of [modern, legacy]) {
    assert.deepEqual(f.get('label').sort(), ['a=b', 'c']);
    assert.deepEqual(f.get('status'), ['running']);
    assert.ok(f.has('status'));
    assert.ok(!f.has('name'));
    assert.deepEqual(f.get('name'), []);
    assert.deepEqual(f.keys().sort(), ['label', 'status']);
  }
});

test('empty, absent and null filters mean no filter', () => {
  for (const raw of [undefined, '', 'null', '{}']) {
    const f = Filters.parse(raw);
    assert.equal(f.size, 0, String(raw));
    assert.ok(f.exactMatch('status', 'exited'));
  }
  // Repeated query keys: the first wins, as Go's FormValue.
  assert.deepEqual(Filters.parse(['{"a":["1"]}', '{"b":["2"]}']).keys(), ['a']);
});

test('unparsable filters are a 400 "invalid filter"', () => {
  for (const raw of ['{', '[]', '"x"', '{"a":"b"}', '{"a":{"b":"yes"}}', '{"a":{"b":true},"c":["d"]}', '{"a":[1]}']) {
    assert.throws(
      () => Filters.parse(raw),
      (err: unknown) => err instanceof InvalidParameterError && err.message === 'invalid filter',
      raw,
    );
  }
});

test("validate names the first unknown key like moby", () => {
  const f = Filters.parse('{"status":["running"],"colour":["red"]}');
  assert.doesNotThrow(() => f.validate(['status', 'colour']));
  assert.throws(() => f.validate(['status', 'label']), { message: "invalid filter 'colour'" });
});

test('matchKVList: key and key=value, all must match', () => {
  const f = Filters.parse('{"label":["app","tier=web"]}');
  assert.ok(f.matchKVList('label', { app: 'x', tier: 'web' }));
  assert.ok(!f.matchKVList('label', { app: 'x', tier: 'db' }));
  assert.ok(!f.matchKVList('label', { tier: 'web' }));
  assert.ok(!f.matchKVList('label', {}));
  assert.ok(!f.matchKVList('label', undefined));
  assert.ok(f.matchKVList('other', {}), 'no filter at key matches everything');
  // Values may contain '=': only the first one splits.
  assert.ok(Filters.parse('{"label":["k=a=b"]}').matchKVList('label', { k: 'a=b' }));
  assert.ok(!Filters.parse('{"label":["toString"]}').matchKVList('label', { a: '1' }));
});

test('matchLabels honours the negated label! key', () => {
  const f = Filters.parse('{"label":{"app":true},"label!":{"tier=db":true}}');
  assert.ok(f.matchLabels({ app: '1', tier: 'web' }));
  assert.ok(!f.matchLabels({ app: '1', tier: 'db' }));
  assert.ok(!f.matchLabels({ tier: 'web' }));
  assert.ok(Filters.parse('{"label!":["keep"]}').matchLabels({ other: '1' }));
  assert.ok(!Filters.parse('{"label!":["keep"]}').matchLabels({ keep: '' }));
});

test('exactMatch, fuzzyMatch, uniqueExactMatch and match', () => {
  const f = Filters.parse('{"id":{"abc":true},"name":{"^/web":true},"off":{"x":false}}');
  assert.ok(f.exactMatch('id', 'abc'));
  assert.ok(!f.exactMatch('id', 'abcdef'));
  assert.ok(f.fuzzyMatch('id', 'abcdef'));
  assert.ok(!f.fuzzyMatch('id', 'xabc'));
  assert.ok(f.uniqueExactMatch('id', 'abc'));
  assert.ok(!Filters.of({ id: ['a', 'b'] }).uniqueExactMatch('id', 'a'));
  assert.ok(f.match('name', '/web-1'));
  assert.ok(!f.match('name', '/db'));
  assert.ok(!f.exactMatch('off', 'x'), 'a value sent as false does not match exactly');
  assert.ok(Filters.parse('{"name":{"[":true}}').match('name', '['), 'bad regex falls back to exact');
});

test('boolOrDefault accepts 1/0/true/false and rejects the rest', () => {
  assert.equal(Filters.parse('{"dangling":["true"]}').boolOrDefault('dangling', false), true);
  assert.equal(Filters.parse('{"dangling":["0"]}').boolOrDefault('dangling', true), false);
  assert.equal(Filters.parse('{}').boolOrDefault('dangling', true), true);
  assert.throws(() => Filters.parse('{"dangling":["maybe"]}').boolOrDefault('dangling', false), {
    message: "invalid filter 'dangling=[maybe]'",
  });
  assert.throws(() => Filters.parse('{"dangling":["1","0"]}').boolOrDefault('dangling', false), InvalidParameterError);
});

// Review §8: `(a+)+b` against a 30-character name took 11.6 s with a backtracking RegExp. The
// test's timeout, far above what a linear-time engine needs, is what fails a backtracking one;
// afterTimers() lets it fire after a synchronous freeze (it would not otherwise).
const afterTimers = () => new Promise((resolve) => setTimeout(resolve, 1));

test('name filters are regular expressions matched in linear time', { timeout: 5_000 }, async () => {
  const f = Filters.of({ name: ['(a+)+b'] });
  assert.equal(f.match('name', 'a'.repeat(30)), false);
  assert.equal(f.match('name', `${'a'.repeat(30)}b`), true);
  assert.ok(Filters.of({ name: ['^we?b-\\d+$'] }).match('name', 'web-12'));
  await afterTimers();
});

test("RE2's leading flag group (?s) is understood", () => {
  assert.ok(Filters.of({ name: ['(?s)^web.12'] }).match('name', 'web\n12'));
});

test('a name filter that is not an RE2 expression matches nothing but itself, as moby skips it', () => {
  // Backreferences and lookaround: RE2 refuses them, so does the linear engine.
  for (const pattern of ['(a)\\1', '(?=a)a', 'web(']) {
    const f = Filters.of({ name: [pattern] });
    assert.equal(f.match('name', 'aa'), false, pattern);
    assert.equal(f.match('name', pattern), true, `${pattern} (exact)`);
  }
});

test('container name filters are linear too, with the substring fallback for non-expressions', { timeout: 5_000 }, async () => {
  const rec = (name: string, created: string) =>
    ({ id: name.replace(/[^a-z0-9]/g, '0').padEnd(64, '0'), name, created, imageId: '', state: { Status: 'running' }, config: {} }) as never;
  const all = [rec(`/${'a'.repeat(31)}`, '2026-01-01T00:00:00Z'), rec('/web(1)', '2026-01-02T00:00:00Z')];
  const names = (pattern: string) =>
    filterContainers(all, { all: true, limit: 0, filters: new Map([['name', [pattern]]]), imageId: () => undefined, container: () => all[0] }).map(
      (c: { name: string }) => c.name,
    );
  assert.deepEqual(names('(a+)+b'), []);
  assert.deepEqual(names('^/a+$'), [`/${'a'.repeat(31)}`]);
  assert.deepEqual(names('web('), ['/web(1)']);
  await afterTimers();
});

test('toMap: key -> values, for the plain-map filter code', () => {
  const f = Filters.parse(JSON.stringify({ status: { running: true, exited: true }, label: { 'a=b': true } }));
  assert.deepEqual([...f.toMap()], [['status', ['running', 'exited']], ['label', ['a=b']]]);
});
