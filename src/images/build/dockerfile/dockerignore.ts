// .dockerignore as Docker reads it: moby/patternmatcher (ignorefile.ReadAll + PatternMatcher),
// ported rather than @balena/dockerignore, which matches case-insensitively, escapes regexp
// characters wrongly (`a(b)c`, `+` in wheel names fail; `a.|)$(}+{bc` throws) and misses
// `**/dir/*` against `dir/dir2/file/` (checked against patternmatcher's own test table in
// test/unit/build-dockerignore.test.ts).
//
// The docker CLI already leaves ignored files out of the context it sends (and still sends the
// Dockerfile and .dockerignore); the daemon then drops .dockerignore and the Dockerfile from the
// context when the patterns name them (moby's removeDockerfile), so COPY . does not copy them.
import { InvalidParameterError } from '../../../errors.js';
import type { IgnoreMatcher } from '../types.js';

interface Pattern {
  exclusion: boolean;
  cleaned: string;
  dirs: string[];
  match: (path: string) => boolean;
}

/** Parse .dockerignore text. Throws InvalidParameterError on a malformed pattern. */
export function readDockerignore(text: string): IgnoreMatcher {
  return new PatternMatcher(readPatterns(text));
}

/** ignorefile.ReadAll: comments, trimming, `!`, cleaning, a leading '/' dropped. */
export function readPatterns(text: string): string[] {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p[0] === '!';
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p[0] === '/') p = p.slice(1);
    }
    out.push(invert ? '!' + p : p);
  }
  return out;
}

export class PatternMatcher implements IgnoreMatcher {
  private readonly patterns: Pattern[] = [];
  private readonly exclusions: boolean;

  constructor(patterns: string[]) {
    let exclusions = false;
    for (let p of patterns) {
      p = p.trim();
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new InvalidParameterError('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      this.patterns.push({ exclusion, cleaned: p, dirs: p.split('/'), match: compile(p) });
    }
    this.exclusions = exclusions;
  }

  /** MatchesOrParentMatches: the path or one of its parent dirs is matched; the last match wins. */
  ignores(relPath: string): boolean {
    const file = goClean(relPath.replace(/^\/+/, ''));
    if (file === '.') return false;
    const parent = goDir(file);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !match; i++) match = pattern.match(parentDirs.slice(0, i + 1).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /** As moby/go-archive decides whether to walk into an excluded dir: some `!` pattern lies under it. */
  mayIncludeUnder(relDir: string): boolean {
    if (!this.exclusions) return false;
    const dirSlash = goClean(relDir.replace(/^\/+/, '')) + '/';
    return this.patterns.some((p) => p.exclusion && (p.cleaned + '/').startsWith(dirSlash));
  }
}

// Pattern.compile: exact, prefix (`dir/**`), suffix (`**/x`) or a regexp; `*` and `?` stop at '/'.
function compile(pattern: string): (path: string) => boolean {
  validate(pattern);
  let re = '^';
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  const chars = [...pattern];
  let pos = 0;
  const peek = () => (pos < chars.length ? chars[pos] : undefined);
  for (let i = 0; peek() !== undefined; i++) {
    const ch = chars[pos++];
    if (ch === '*') {
      if (peek() === '*') {
        pos++;
        if (peek() === '/') pos++;
        if (peek() === undefined) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (peek() !== undefined) {
        re += '\\' + chars[pos++];
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  switch (type) {
    case 'exact':
      return (path) => path === pattern;
    case 'prefix': {
      const prefix = pattern.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = pattern.slice(2);
      return (path) => path.endsWith(suffix) || (suffix[0] === '/' && path === suffix.slice(1));
    }
    case 'regexp': {
      let rx: RegExp;
      try {
        rx = new RegExp(re + '$');
      } catch {
        return () => false;
      }
      return (path) => rx.test(path);
    }
  }
}

// filepath.Match(pattern, ".") is how patternmatcher rejects malformed patterns: a trailing
// escape, an unclosed or empty class, a range missing an end.
function validate(pattern: string): void {
  const bad = () => new InvalidParameterError(`syntax error in pattern: ${pattern}`);
  const n = pattern.length;
  const esc = (j: number): number => {
    if (j >= n || pattern[j] === '-' || pattern[j] === ']') throw bad();
    if (pattern[j] === '\\') {
      j++;
      if (j >= n) throw bad();
    }
    return j + 1;
  };
  for (let i = 0; i < n; ) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= n) throw bad();
      i += 2;
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      for (let ranges = 0; ; ranges++) {
        if (j < n && pattern[j] === ']' && ranges > 0) {
          j++;
          break;
        }
        j = esc(j);
        if (pattern[j] === '-') j = esc(j + 1);
      }
      i = j;
    } else {
      i++;
    }
  }
}

/** Go's path.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(i < 0 ? '' : p.slice(0, i + 1));
}

/**
 * The files the daemon drops from a received context before the build (moby's
 * removeDockerfile): .dockerignore and the Dockerfile, each only when the patterns name it.
 */
export function removedFromContext(matcher: IgnoreMatcher, dockerfilePath: string): string[] {
  return ['.dockerignore', dockerfilePath].filter((f) => matcher.ignores(f));
}
