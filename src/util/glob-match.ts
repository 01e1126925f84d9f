// Go's path.Match (filepath.Match on Linux), which moby's `reference` image filter uses (distribution's FamiliarMatch) and the builder's COPY globs.
// The pattern is parsed once; matching follows Go's chunk-by-chunk algorithm: a star tries each
// position of the chunk after it and never revisits an earlier star, so a match costs at most
// O(pattern x name) steps, however many stars the client sends (a backtracking regex took seconds).
import { InvalidParameterError } from '../errors.js';

type Token =
  | { kind: 'char'; cp: number }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

/** A run of tokens without `*`, and whether one or more stars came before it. */
interface Chunk {
  star: boolean;
  tokens: Token[];
}

const SLASH = 0x2f;

/** Go's path.ErrBadPattern text. */
function badPattern(): InvalidParameterError {
  return new InvalidParameterError('syntax error in pattern');
}

export class Glob {
  private constructor(private readonly chunks: Chunk[]) {}

  /** Parses `pattern`; a malformed one (unclosed `[`, trailing `\`, `[]`...) is a 400, as Go refuses it. */
  static compile(pattern: string): Glob {
    return new Glob(parseChunks([...pattern].map((c) => c.codePointAt(0)!)));
  }

  matches(value: string): boolean {
    let name = [...value].map((c) => c.codePointAt(0)!);
    for (let k = 0; k < this.chunks.length; k++) {
      const { star, tokens } = this.chunks[k];
      const last = k === this.chunks.length - 1;
      // A trailing star matches the rest unless it holds a '/'.
      if (star && tokens.length === 0) return !name.includes(SLASH);
      const here = matchChunk(tokens, name, 0);
      if (here >= 0 && (here === name.length || !last)) {
        name = name.slice(here);
        continue;
      }
      if (!star) return false;
      let found = -1;
      for (let i = 0; i < name.length && name[i] !== SLASH; i++) {
        const end = matchChunk(tokens, name, i + 1);
        if (end < 0) continue;
        // The last chunk must use up the name.
        if (last && end < name.length) continue;
        found = end;
        break;
      }
      if (found < 0) return false;
      name = name.slice(found);
    }
    return name.length === 0;
  }
}

/** Where the chunk's match starting at `from` ends, or -1. */
function matchChunk(tokens: Token[], name: number[], from: number): number {
  let i = from;
  for (const t of tokens) {
    if (i >= name.length) return -1;
    const c = name[i++];
    if (t.kind === 'char') {
      if (c !== t.cp) return -1;
    } else if (t.kind === 'any') {
      if (c === SLASH) return -1;
    } else {
      const inRange = t.ranges.some(([lo, hi]) => lo <= c && c <= hi);
      if (inRange === t.negated) return -1;
    }
  }
  return i;
}

function parseChunks(p: number[]): Chunk[] {
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < p.length) {
    let star = false;
    while (i < p.length && p[i] === 0x2a) {
      star = true;
      i++;
    }
    const tokens: Token[] = [];
    while (i < p.length && p[i] !== 0x2a) {
      const c = p[i];
      if (c === 0x3f) {
        tokens.push({ kind: 'any' });
        i++;
      } else if (c === 0x5c) {
        if (i + 1 >= p.length) throw badPattern();
        tokens.push({ kind: 'char', cp: p[i + 1] });
        i += 2;
      } else if (c === 0x5b) {
        i = parseClass(p, i + 1, tokens);
      } else {
        tokens.push({ kind: 'char', cp: c });
        i++;
      }
    }
    chunks.push({ star, tokens });
  }
  return chunks;
}

/** `[^a-z\]x]` after its '['; pushes the class and returns the index after its ']'. */
function parseClass(p: number[], start: number, tokens: Token[]): number {
  let i = start;
  let negated = false;
  if (p[i] === 0x5e) {
    negated = true;
    i++;
  }
  const ranges: Array<[number, number]> = [];
  for (;;) {
    if (p[i] === 0x5d && ranges.length > 0) {
      tokens.push({ kind: 'class', negated, ranges });
      return i + 1;
    }
    const lo = classChar(p, i);
    i = lo.next;
    let hi = lo.cp;
    if (p[i] === 0x2d) {
      const h = classChar(p, i + 1);
      hi = h.cp;
      i = h.next;
    }
    ranges.push([lo.cp, hi]);
  }
}

/** Go's getEsc: one (possibly escaped) class character, which must not end the pattern. */
function classChar(p: number[], at: number): { cp: number; next: number } {
  let i = at;
  if (i >= p.length || p[i] === 0x2d || p[i] === 0x5d) throw badPattern();
  if (p[i] === 0x5c) {
    i++;
    if (i >= p.length) throw badPattern();
  }
  if (i + 1 >= p.length) throw badPattern();
  return { cp: p[i], next: i + 1 };
}
