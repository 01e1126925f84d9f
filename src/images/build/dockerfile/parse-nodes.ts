// Dockerfile text -> logical lines (moby's parser.Parse). dockerfile-ast reads the parser
// directives (`# escape=`, `# syntax=`, `# check=`: only at the top, before anything else). The
// lines are joined exactly as buildkit's scanner joins them (the escape char at a line's end
// continues it; comment lines and empty lines inside a continuation are dropped; continuation
// lines keep their leading spaces), because Docker prints that text in `Step N/M : ...` and
// splits arguments from it; dockerfile-ast's instruction ranges differ on odd inputs (a line
// holding only the escape char starts an instruction there, buildkit continues it). Errors here
// are Docker's "failed to parse <name>: ..." ones; per-instruction checks are in parse-dockerfile.ts.
import { createRequire } from 'node:module';
import type { DockerfileParser as Parser } from 'dockerfile-ast';
import { InvalidParameterError } from '../../../errors.js';
import { LineParseError, parseLine, type LineNode } from './line-parsers.js';
import { expandWords } from './shell-words.js';

export interface DockerfileNode extends LineNode {
  /** The joined line as moby's Node.Original (continuations removed, not trimmed). */
  original: string;
  /** 1-based first and last lines. */
  startLine: number;
  endLine: number;
}

export interface DockerfileNodes {
  escape: string;
  nodes: DockerfileNode[];
  /** buildkit's warnings' short texts, e.g. 'Empty continuation line found in: RUN a b'. */
  warnings: string[];
}

// Loaded at the first build, not with the daemon: ~35 ms of every start-up for a parser only
// builds use (a CommonJS package, so a synchronous require serves it).
let parser: typeof Parser | undefined;
function dockerfileParser(): typeof Parser {
  parser ??= (createRequire(import.meta.url)('dockerfile-ast') as typeof import('dockerfile-ast')).DockerfileParser;
  return parser;
}

const BUILDKIT_HINT = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

export function parseNodes(text: string, name = 'Dockerfile'): DockerfileNodes {
  const fail = (msg: string) => new InvalidParameterError(`failed to parse ${name}: ${msg}`);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const ast = dockerfileParser().parse(text);

  let escape = '\\';
  const seen = new Set<string>();
  for (const d of ast.getDirectives()) {
    const key = d.getName().toLowerCase();
    if (seen.has(key)) throw fail(`only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      const v = d.getValue();
      if (v !== '`' && v !== '\\') throw fail(`invalid escape token '${v}' does not match \` or \\`);
      escape = v;
    }
  }

  const lines = splitLines(text);
  const cont = continuationRegex(escape);
  const nodes: DockerfileNode[] = [];
  const warnings: string[] = [];
  let consumed = -1;
  for (let s = 0; s < lines.length; s++) {
    if (s <= consumed) continue;
    const joined = joinFrom(lines, s, cont);
    consumed = joined.end;
    if (joined.line === undefined) continue;
    if (joined.emptyContinuation) warnings.push(`Empty continuation line found in: ${joined.line}`);
    let node: LineNode;
    try {
      node = parseLine(joined.line, escape);
    } catch (err) {
      if (err instanceof LineParseError) throw fail(err.message);
      throw err;
    }
    const full: DockerfileNode = { ...node, original: joined.line, startLine: s + 1, endLine: joined.end + 1 };
    if (hasHeredoc(full)) {
      throw new InvalidParameterError(
        `dockerfile parse error on line ${s + 1}: heredocs (<<) are not supported by the legacy builder. ${BUILDKIT_HINT}`,
      );
    }
    nodes.push(full);
  }
  if (nodes.length === 0) throw fail('file with no instructions');
  return { escape, nodes, warnings };
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.replace(/\r+$/, '') : l));
}

function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

function processFirstLine(raw: string): string {
  const l = raw.replace(/^\s+/, '');
  return isComment(l) ? '' : l;
}

// Go's regexp: `([^\X])\X[ \t]*$|^\X[ \t]*$` where X is the escape char.
function continuationRegex(escape: string): RegExp {
  const x = escape === '`' ? '`' : '\\\\';
  return new RegExp(`([^${x}])${x}[ \\t]*$|^${x}[ \\t]*$`);
}

function trimContinuation(line: string, re: RegExp): { line: string; end: boolean } {
  if (re.test(line)) return { line: line.replace(re, '$1'), end: false };
  return { line, end: true };
}

function joinFrom(lines: string[], s: number, re: RegExp): { line?: string; end: number; emptyContinuation?: boolean } {
  const first = trimContinuation(processFirstLine(lines[s]), re);
  if (first.end && first.line === '') return { end: s };
  let buf = first.line;
  let end = first.end;
  let i = s + 1;
  let emptyContinuation = false;
  while (!end && i < lines.length) {
    const raw = lines[i++];
    if (isComment(raw)) continue;
    if (/^\s*$/.test(raw)) {
      emptyContinuation = true;
      continue;
    }
    const t = trimContinuation(raw, re);
    buf += t.line;
    end = t.end;
  }
  return { line: buf, end: i - 1, emptyContinuation };
}

// buildkit reads `<<WORD` on ADD, COPY and RUN (also under ONBUILD) in shell form as a heredoc.
function hasHeredoc(node: LineNode & { original: string }): boolean {
  const target = node.keyword.toLowerCase() === 'onbuild' && node.child ? node.child : node;
  if (!['add', 'copy', 'run'].includes(target.keyword.toLowerCase()) || target.json) return false;
  if (!node.original.includes('<<')) return false;
  let words: string[];
  try {
    words = expandWords(node.original, new Map(), '\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    return false;
  }
  return words.some((w) => {
    const m = /^(\d*)<<(-?)\s*([^<]*)$/.exec(w);
    return m !== null && m[3] !== '';
  });
}
