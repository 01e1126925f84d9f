import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameterError } from '../../src/errors.js';
import { PatternMatcher, readDockerignore, readPatterns, removedFromContext } from '../../src/images/build/dockerfile/dockerignore.js';

// moby/patternmatcher's TestMatches table (MatchesOrParentMatches), as it is.
const MATCHES: [string, string, boolean][] = [
  ['**', 'file', true],
  ['**', 'file/', true],
  ['**/', 'file', true],
  ['**/', 'file/', true],
  ['**', '/', true],
  ['**/', '/', true],
  ['**', 'dir/file', true],
  ['**/', 'dir/file', true],
  ['**', 'dir/file/', true],
  ['**/', 'dir/file/', true],
  ['**/**', 'dir/file', true],
  ['**/**', 'dir/file/', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/file/', true],
  ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir/dir2/file/', true],
  ['**/dir', 'dir', true],
  ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/*', 'dir/dir2/file/', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file/', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true],
  ['**file', 'dir/dir/file', true],
  ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def', true],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],  ['a\\*b', 'a*b', true],
];

test('patternmatcher TestMatches: one pattern, path or parent matched', () => {
  for (const [pattern, text, want] of MATCHES) {
    // ignores() cleans its path first (as patternmatcher.Matches does), so '/' is the context
    // root, which is never ignored; the table calls the method that does not clean
    if (text === '/') {
      assert.equal(new PatternMatcher([pattern]).ignores(text), false);
      continue;
    }
    assert.equal(new PatternMatcher([pattern]).ignores(text), want, `${pattern} ${text}`);
  }
});

test('several patterns: exceptions, last match wins, parents', () => {
  const cases: [string[], string, boolean][] = [
    [['**', '!util/docker/web'], 'util/docker/web/foo', false],
    [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
    [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
    [['*'], 'fileutils.go', true],
    [['*.go'], 'fileutils.go', true],
    [['!fileutils.go', '*.go'], 'fileutils.go', true],
    [['*.go', '!fileutils.go'], 'fileutils.go', false],
    [['docs', '!docs/README.md'], 'docs/README.md', false],
    [['docs/', '!docs/README.md'], 'docs/README.md', false],
    [['docs/*', '!docs/README.md'], 'docs/README.md', false],
    [['*.go'], '.', false],
    [['node_modules'], 'node_modules/a/b.js', true],
    [['*.md'], 'sub/README.md', false],
    [['**/*.md'], 'sub/README.md', true],
    [['Dockerfile'], 'dockerfile', false],
  ];
  for (const [patterns, text, want] of cases) {
    assert.equal(new PatternMatcher(patterns).ignores(text), want, `${patterns.join(' ')} ${text}`);
  }
});

test('reading .dockerignore: comments, spaces, leading slash, cleaning, exceptions', () => {
  assert.deepEqual(readPatterns('# comment\n  *.log  \n\n/abs/path\n!  keep.log\n./a/../b/\n #not a comment\n'), [
    '*.log',
    'abs/path',
    '!keep.log',
    'b',
    '#not a comment',
  ]);
  const m = readDockerignore('\ufeff*.log\n!keep.log\n/tmp\n');
  assert.equal(m.ignores('x.log'), true);
  assert.equal(m.ignores('keep.log'), false);
  assert.equal(m.ignores('tmp/a/b'), true);
  assert.equal(m.ignores('/tmp'), true);
});

test('malformed patterns are refused', () => {
  assert.throws(() => readDockerignore('!\n'), (e: unknown) => e instanceof InvalidParameterError && e.message === 'illegal exclusion pattern: "!"');
  for (const bad of ['[', 'a[', '[]', '[a-]', 'x\\']) {
    assert.throws(() => readDockerignore(bad), InvalidParameterError, bad);
  }
  assert.doesNotThrow(() => readDockerignore('[a-c]\n[^x]y\n\\[lit\\]\n'));
});

test('walking: an excluded dir is entered only when an exception lies under it', () => {
  const m = readDockerignore('build\n!build/keep\nvendor\n!**/important\n');
  assert.equal(m.ignores('build'), true);
  assert.equal(m.mayIncludeUnder('build'), true);
  assert.equal(m.ignores('build/keep'), false);
  assert.equal(m.ignores('build/other'), true);
  // as in go-archive, `!**/x` does not make an excluded dir worth walking
  assert.equal(m.mayIncludeUnder('vendor'), false);
  assert.equal(readDockerignore('a\n').mayIncludeUnder('a'), false);
});

test('the Dockerfile and .dockerignore leave the context only when listed', () => {
  assert.deepEqual(removedFromContext(readDockerignore('*.md\n'), 'Dockerfile'), []);
  assert.deepEqual(removedFromContext(readDockerignore('Dockerfile\n.dockerignore\n'), 'Dockerfile'), ['.dockerignore', 'Dockerfile']);
  assert.deepEqual(removedFromContext(readDockerignore('build\n'), 'build/Dockerfile.dev'), ['build/Dockerfile.dev']);
  assert.deepEqual(removedFromContext(readDockerignore('.*\n'), 'Dockerfile'), ['.dockerignore']);
});
