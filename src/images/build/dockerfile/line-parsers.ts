// How one logical Dockerfile line splits into keyword, `--flags` and arguments: a port of
// buildkit's frontend/dockerfile/parser (split_command.go, line_parsers.go), which the classic
// builder uses. The per-keyword rules decide what the arguments are: ENV/LABEL become
// (key, value, '='|'') triples with quotes still in them (expansion removes them later), RUN/CMD/
// ENTRYPOINT/SHELL are a JSON array or one string, COPY/ADD/VOLUME a JSON array or words split on
// whitespace, FROM/EXPOSE words, ARG quote-aware words, and unknown keywords no arguments.

export class LineParseError extends Error {
  override name = 'LineParseError';
}

export interface LineNode {
  /** The keyword as written ('run', 'RUN', 'Run'...). */
  keyword: string;
  /** `--name[=value]` words before the arguments, unparsed. */
  flags: string[];
  args: string[];
  json: boolean;
  /** ONBUILD's instruction. */
  child?: LineNode;
}

const WHITESPACE = /[\t\v\f\r ]+/;

/** Go's unicode.IsSpace. */
function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
}

function trimLeftSpace(s: string): string {
  let a = 0;
  while (a < s.length && isSpace(s[a])) a++;
  return s.slice(a);
}

type Parser = (rest: string, escape: string) => { args: string[]; json: boolean; child?: LineNode };

const PARSERS: Record<string, Parser> = {
  add: maybeJSONToList,
  arg: (rest, esc) => ({ args: parseWords(rest, esc), json: false }),
  cmd: maybeJSON,
  copy: maybeJSONToList,
  entrypoint: maybeJSON,
  env: (rest, esc) => ({ args: parseNameVal(rest, 'ENV', esc), json: false }),
  expose: (rest) => ({ args: whitespaceDelimited(rest), json: false }),
  from: (rest) => ({ args: whitespaceDelimited(rest), json: false }),
  healthcheck: healthConfig,
  label: (rest, esc) => ({ args: parseNameVal(rest, 'LABEL', esc), json: false }),
  maintainer: str,
  onbuild: (rest, esc) => (rest === '' ? { args: [], json: false } : { args: [], json: false, child: parseLine(rest, esc) }),
  run: maybeJSON,
  shell: maybeJSON,
  stopsignal: str,
  user: str,
  volume: maybeJSONToList,
  workdir: str,
};

/** newNodeFromLine: one joined line (continuations already removed) to its parts. */
export function parseLine(line: string, escape: string): LineNode {
  const { cmd, flags, args } = splitCommand(line, escape);
  const parser = PARSERS[cmd.toLowerCase()];
  // Unknown keywords parse (without arguments); the instruction check reports them with the line.
  if (!parser) return { keyword: cmd, flags, args: [], json: false };
  const r = parser(args, escape);
  return { keyword: cmd, flags, args: r.args, json: r.json, ...(r.child ? { child: r.child } : {}) };
}

function splitCommand(line: string, escape: string): { cmd: string; flags: string[]; args: string } {
  const trimmed = trimSpace(line);
  const m = WHITESPACE.exec(trimmed);
  if (!m) return { cmd: trimmed, flags: [], args: '' };
  const cmd = trimmed.slice(0, m.index);
  const { rest, words } = extractBuilderFlags(trimmed.slice(m.index + m[0].length), escape);
  return { cmd, flags: words, args: trimSpace(rest) };
}

// Leading words that start with `--` are flags (quotes and escapes inside them are processed);
// a bare `--` ends them.
function extractBuilderFlags(line: string, escape: string): { rest: string; words: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let buf = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos !== line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (buf !== '--' && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (buf === '--') return { rest: line.slice(pos), words };
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos];
      }
      buf += ch;
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos];
    }
    buf += ch;
  }
  return { rest: '', words };
}

/** Words split on unquoted whitespace, quotes and escapes kept (expansion strips them later). */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let buf = '';
  const chars = [...rest];
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos !== chars.length ? chars[pos] : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        buf += ch;
        pos++;
        ch = chars[pos];
      }
      buf += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // the escape char escapes inside "..." but not inside '...'
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      buf += ch;
      ch = chars[pos];
    }
    buf += ch;
  }
  return words;
}

// `KEY value` (legacy: the rest of the line is the value) or `KEY=value ...`; the first word decides.
function parseNameVal(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw new LineParseError(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const word of words) {
    const i = word.indexOf('=');
    if (i < 0) throw new LineParseError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    out.push(word.slice(0, i), word.slice(i + 1), '=');
  }
  return out;
}

function whitespaceDelimited(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(new RegExp(WHITESPACE.source));
}

function str(rest: string): { args: string[]; json: boolean } {
  return { args: rest === '' ? [] : [rest], json: false };
}

const NOT_JSON = Symbol('not json');

function parseJSON(rest: string): string[] | typeof NOT_JSON {
  rest = trimLeftSpace(rest);
  if (!rest.startsWith('[')) return NOT_JSON;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(v)) return NOT_JSON;
  if (!v.every((x) => typeof x === 'string')) {
    throw new LineParseError('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return v as string[];
}

function maybeJSON(rest: string): { args: string[]; json: boolean } {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return { args: [rest], json: false };
}

function maybeJSONToList(rest: string): { args: string[]; json: boolean } {
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return { args: whitespaceDelimited(rest), json: false };
}

// HEALTHCHECK TYPE [cmd...]: the type word, then the rest as for CMD.
function healthConfig(rest: string): { args: string[]; json: boolean } {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep])) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next])) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = maybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}
