// Word expansion as the classic builder does it: a port of buildkit's frontend/dockerfile/shell
// (lex.go), which moby vendors. `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`,
// `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR%pat}` (and `##`, `%%`),
// `${VAR/pat/repl}` and `${VAR//pat/repl}`; single and double quotes; the escape character
// (`\` or the `escape=` directive's backtick). Not a shell: no command substitution, no globbing.
// Errors carry buildkit's words, wrapped as `failed to process "<word>": ...`.

export type Env = ReadonlyMap<string, string>;

export interface LexOptions {
  /** Keep quote characters in the result (the heredoc detector's mode). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave `$VAR` as written when VAR is unset instead of expanding it to ''. */
  skipUnsetEnv?: boolean;
}

export class ShellWordError extends Error {
  override name = 'ShellWordError';
}

const EOF = -1;

/** `KEY=value` strings (a config's Env) to a lookup; a later duplicate wins, as EnvsFromSlice. */
export function envFromList(list: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** ProcessWord: expand one word, quotes removed, spaces inside kept. */
export function expandWord(word: string, env: Env, escape = '\\', opts: LexOptions = {}): string {
  return new ShellWord(word, env, escape, opts).run().result;
}

/** ProcessWords: expand, then split on unquoted whitespace (after substitution, as buildkit). */
export function expandWords(word: string, env: Env, escape = '\\', opts: LexOptions = {}): string[] {
  return new ShellWord(word, env, escape, opts).run().words;
}

class Words {
  buf = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly source: string,
    private readonly env: Env,
    private readonly escape: string,
    private readonly opts: LexOptions,
  ) {
    this.chars = [...source];
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  run(): { result: string; words: string[] } {
    try {
      return this.processStopOn(EOF, this.rawEscapes);
    } catch (err) {
      if (err instanceof ShellWordError) throw new ShellWordError(`failed to process ${goQuote(this.source)}: ${err.message}`);
      throw err;
    }
  }

  private peek(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  private processStopOn(stopChar: string | typeof EOF, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        const ch = this.peek() as string;
        if (stopChar !== EOF && ch === stopChar) {
          this.next();
          return { result, words: words.getWords() };
        }
        const special =
          ch === '$' ? () => this.processDollar()
          : ch === '<' ? () => this.processPossibleHeredoc()
          : ch === "'" ? () => this.processSingleQuote()
          : ch === '"' ? () => this.processDoubleQuote()
          : undefined;
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next() as string;
        if (c === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const n = this.next();
          if (n === EOF) break;
          c = n;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stopChar !== EOF) throw new ShellWordError(`unexpected end of statement while looking for matching ${stopChar}`);
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new ShellWordError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellWordError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.opts.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        if (q === '"' || q === '$' || q === this.escape) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.env.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ShellWordError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellWordError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go's string(rune(-1)) is U+FFFD: `${VAR` ends in "unsupported modifier (\ufffd)"
    let chs = ch === EOF ? '\ufffd' : ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const v = this.env.get(name);
        if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return v ?? '';
      }
      case ':':
      case '+':
      case '-':
      case '?':
      case '#':
      case '%': {
        if (ch === ':') {
          nullIsUnset = true;
          ch = this.next();
          chs += ch === EOF ? '\ufffd' : ch;
        }
        const raw = ch === '#' || ch === '%';
        if (nullIsUnset && raw) throw new ShellWordError(`unsupported modifier (${chs}) in substitution`);
        let word: string;
        try {
          word = this.processStopOn('}', raw).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellWordError("syntax error: missing '}'");
          throw err;
        }
        const value = this.env.get(name);
        const set = value !== undefined;
        if (this.opts.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
        const v = value ?? '';
        switch (ch) {
          case '-':
            return !set || (nullIsUnset && v === '') ? word : v;
          case '+':
            return !set || (nullIsUnset && v === '') ? '' : word;
          case '?':
            if (!set) throw new ShellWordError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
            if (nullIsUnset && v === '') throw new ShellWordError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
            return v;
          case '%':
          case '#': {
            let greedy = false;
            if (word.length > 0 && word[0] === ch) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === '%' ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
          }
          default:
            throw new ShellWordError(`unsupported modifier (${chs}) in substitution`);
        }
      }
      case '/': {
        const all = this.peek() === '/';
        if (all) this.next();
        let pattern: string;
        try {
          pattern = this.processStopOn('/', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellWordError("syntax error: missing '/' in ${}");
          throw err;
        }
        let replacement: string;
        try {
          replacement = this.processStopOn('}', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellWordError("syntax error: missing '}'");
          throw err;
        }
        const value = this.env.get(name);
        if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
        const re = shellPatternToRegex(pattern, true, false, all);
        const v = value ?? '';
        if (all) return v.replace(re, () => replacement);
        const m = re.exec(v);
        return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
      }
      default:
        throw new ShellWordError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek() as string;
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek() as string)) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) return this.next() as string;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let c = this.peek(); c === '\t' || c === '\r' || c === ' '; c = this.peek()) {
      space += c;
      this.next();
    }
    return '<<' + space;
  }
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}
function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}
function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** Go's %q for the strings we meet (printable text): JSON's escaping is the same for them. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

// ? is one character, * the shortest (or with greedy the longest) run; no bracket expressions.
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = [...pattern];
  let out = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i];
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '[^\\n]';
      continue;
    }
    if (tok === '\\') {
      const nx = chars[i + 1];
      // } and / inside ${} need escaping there, but the escape is not part of the pattern
      if (nx === '}' || nx === '/') continue;
      i++;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new ShellWordError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
      continue;
    }
    out += /[[\]{}.+()|^$]/.test(tok) ? '\\' + tok : tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

// A regexp cannot find the shortest rightmost match, so both are reversed (escapes kept in order).
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const p = [...pattern];
  const rev: string[] = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    const o = last - i;
    if (p[i] === '\\' && i !== last) {
      rev[o - 1] = p[i];
      rev[o] = p[i + 1];
      i += 2;
    } else {
      rev[o] = p[i];
      i++;
    }
  }
  const reversed = [...value].reverse().join('');
  return [...trimPrefix(rev.join(''), reversed, greedy)].reverse().join('');
}
