// The entries a COPY source directory contributes, in the order a tar lists them (parents first,
// names sorted), with .dockerignore applied as if ignored files had never been sent: Docker's CLI
// leaves them out of the context, so an ignored directory that a `!` exception re-includes
// something under comes back only as the parent of what it holds. The walk goes through held
// directory fds (src/util/in-root): a symlink in the tree is an entry, never followed.
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { walkTree } from '../../../util/in-root/walk-tree.js';
import type { IgnoreMatcher } from '../types.js';

export interface SourceEntry {
  /** The directory holding the entry, open while the entry is handled (null for lazily emitted dirs). */
  dir: FileHandle | null;
  name: string;
  /** Path below the walked directory, without a leading '/'. */
  rel: string;
  /** Path in the source root (the context), without a leading '/': what .dockerignore and the checksum see. */
  rootRel: string;
  stat: Stats;
}

/** `a` joined with `b`, either may be '' ('' + 'x' = 'x'). */
export function joinRel(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}/${b}`;
}

/**
 * Everything under `top` (the directory at `topRootRel` of the source root), not `top` itself.
 * Sockets are left out (Go's archive/tar cannot write them; Docker skips them too).
 */
export async function* walkSource(top: FileHandle, topRootRel: string, ignore?: IgnoreMatcher): AsyncGenerator<SourceEntry> {
  const skip = ignore ? (p: string) => ignore.ignores(joinRel(topRootRel, p.slice(1))) && !ignore.mayIncludeUnder(joinRel(topRootRel, p.slice(1))) : undefined;
  // ignored directories walked only for what an exception may re-include under them
  let pending: SourceEntry[] = [];
  for await (const e of walkTree(top, { skip })) {
    if (e.stat.isSocket()) continue;
    const rel = e.path.slice(1);
    const entry: SourceEntry = { dir: e.dir, name: e.name, rel, rootRel: joinRel(topRootRel, rel), stat: e.stat };
    pending = pending.filter((p) => rel.startsWith(`${p.rel}/`));
    if (ignore?.ignores(entry.rootRel)) {
      if (e.stat.isDirectory()) pending.push({ ...entry, dir: null });
      continue;
    }
    for (const p of pending) yield p;
    pending = [];
    yield entry;
  }
}
