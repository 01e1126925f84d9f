// A repeated query key reads as Go's r.Form.Get (its first value) except the keys handlers read
// as lists; the API fuzzer found `?path=a&path=b` reaching string code as an array (500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueryString } from '../../src/api/query-parser.js';

test('a repeated key is its first value', () => {
  assert.deepEqual({ ...parseQueryString('path=%2Fetc&path=%2Fbin&signal=KILL&signal=TERM&name=a&name=b') }, { path: '/etc', signal: 'KILL', name: 'a' });
  assert.deepEqual({ ...parseQueryString('ps_args=-ef&ps_args=aux&tag=1&tag=2') }, { ps_args: '-ef', tag: '1' });
});

test('list keys keep every value; single ones stay strings', () => {
  assert.deepEqual({ ...parseQueryString('changes=ENV%20A%3Db&changes=CMD%20x&names=a&names=b&t=x&t=y&type=image&type=volume&extrahosts=a:1&extrahosts=b:2') }, {
    changes: ['ENV A=b', 'CMD x'],
    names: ['a', 'b'],
    t: ['x', 'y'],
    type: ['image', 'volume'],
    extrahosts: ['a:1', 'b:2'],
  });
  assert.deepEqual({ ...parseQueryString('names=a&all=1&filters=%7B%7D') }, { names: 'a', all: '1', filters: '{}' });
});

test('odd query text parses without throwing', () => {
  assert.deepEqual({ ...parseQueryString('%ZZ=%&&&=x&a') }, { '%ZZ': '%', '': 'x', a: '' });
  assert.deepEqual({ ...parseQueryString('') }, {});
});
