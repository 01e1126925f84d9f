// Client-supplied regular expressions (the `name` filters) compiled for V8's linear-time engine,
// the counterpart of Go's RE2 that moby matches them with. V8's default engine backtracks: `(a+)+b`
// against a 30-character name froze the event loop for seconds. The linear engine refuses what RE2
// also refuses (backreferences, lookaround); moby skips a pattern that does not compile, and so do
// the callers here.
import { setFlagsFromString } from 'node:v8';

// The flag only makes the `l` (linear) RegExp flag available; it changes nothing for other regexps.
setFlagsFromString('--enable-experimental-regexp-engine');

const LINEAR = supportsLinear() ? 'l' : undefined;

function supportsLinear(): boolean {
  try {
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
}

/**
 * A linear-time RegExp for a Go (RE2) pattern, or undefined when it is not one (or cannot run in
 * linear time). RE2's leading `(?s)`/`(?m)` flag group and `(?P<name>` become JS flags/syntax; `(?i)`
 * does not, as V8's linear engine cannot ignore case.
 */
export function linearRegExp(pattern: string): RegExp | undefined {
  if (!LINEAR) return undefined;
  let source = pattern;
  let flags = LINEAR;
  const lead = /^\(\?([ms]+)\)/.exec(source);
  if (lead) {
    flags += [...new Set(lead[1])].join('');
    source = source.slice(lead[0].length);
  }
  source = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(source, flags);
  } catch {
    return undefined;
  }
}
