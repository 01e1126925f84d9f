// GET /containers/json of thousands of containers: building and serialising each entry's view
// (network state, mounts, ports) was most of a `docker ps -a` of 10,000. Each entry's JSON is
// made once, as UTF-8 bytes, and reused until the database changes; only the STATUS text, which
// moves with the clock, is put in per request. The answer is the entries' bytes copied once.
//
// The key is SQLite's count of rows written on the daemon's connection: every change a list
// entry can show (the container's row, its endpoints, sandboxes and ports, network names) is
// written there, and a record changed in place lists its change once it is saved (the engine
// saves each change as it makes it). Any write voids every entry: coarse, but nothing has to
// tell the cache what changed, and a daemon whose containers do not change lists them at the
// cost of a copy.
import type { ContainerRecord } from './model.js';
import { newestFirst } from './filters.js';
import { statusText } from './status-text.js';

/** The entry's JSON whole when its status does not move with time, else on each side of its Status value. */
type Entry = { whole: Buffer } | { whole: undefined; head: Buffer; tail: Buffer };

/** States whose STATUS text does not depend on the clock (status-text.ts). */
const FIXED = new Set(['created', 'removing', 'dead']);
const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

export class ListCache {
  private version = -1;
  private readonly entries = new Map<string, Entry>();
  private order: ContainerRecord[] | undefined;

  /** `changes` answers a number that moves whenever anything was written (ContainerStore.changes). */
  constructor(private readonly changes: () => number) {}

  /**
   * The JSON array of the records' list views, in their order; view() builds an entry the cache
   * lacks, and must depend only on what is in the database (never on the request: an API
   * version's difference would need its own entries).
   */
  json(list: readonly ContainerRecord[], view: (c: ContainerRecord) => { Status: string }, now = Date.now()): Buffer {
    this.refresh();
    const parts: Buffer[] = [OPEN];
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      let e = this.entries.get(c.id);
      if (e === undefined) {
        const { head, tail } = splitAtStatus(view(c));
        // one buffer per entry where possible: thousands of small ones cost more than the JSON
        e = FIXED.has(c.state.Status)
          ? { whole: Buffer.from(head + JSON.stringify(statusText(c, now)) + tail) }
          : { whole: undefined, head: Buffer.from(head), tail: Buffer.from(tail) };
        this.entries.set(c.id, e);
      }
      if (i > 0) parts.push(COMMA);
      if (e.whole) parts.push(e.whole);
      else parts.push(e.head, Buffer.from(JSON.stringify(statusText(c, now))), e.tail);
    }
    parts.push(CLOSE);
    return Buffer.concat(parts);
  }

  /**
   * `all`, every listable record, newest first. The order is kept while nothing is written: a
   * container comes or goes only with a write, so the same set is passed until then.
   */
  newestFirst(all: readonly ContainerRecord[]): ContainerRecord[] {
    this.refresh();
    if (this.order === undefined || this.order.length !== all.length) this.order = newestFirst(all);
    return this.order;
  }

  private refresh(): void {
    const v = this.changes();
    if (v === this.version) return;
    this.entries.clear();
    this.order = undefined;
    this.version = v;
  }
}

/** The object's JSON cut where its Status value goes, keys kept in their order. */
function splitAtStatus(view: { Status: string }): { head: string; tail: string } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let seen = false;
  for (const [k, v] of Object.entries(view)) {
    if (k === 'Status') seen = true;
    else (seen ? after : before)[k] = v;
  }
  const head = JSON.stringify(before);
  const tail = JSON.stringify(after);
  return {
    head: `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"Status":`,
    tail: tail.length > 2 ? `,${tail.slice(1)}` : '}',
  };
}
