// Exec instances by ID, kept as moby keeps them: an exec that has not exited belongs to its
// container (inspect's ExecIDs); once it exits it stays inspectable for a while (the CLI reads
// the exit code right after the stream ends), then goes. moby's execCommandGC drops exited execs
// at its second 5-minute tick; here they go at the first sweep once `retainMs` has passed.
// Without that, every exec (a health probe each interval) was held until the container went.

export interface ExecIdentity {
  id: string;
  containerId: string;
}

export class ExecStore<T extends ExecIdentity> {
  private readonly all = new Map<string, T>();
  /** Per container, the IDs of its execs that have not exited. */
  private readonly live = new Map<string, Set<string>>();
  /** Exited execs, by the time they exited (ms): insertion order is exit order. */
  private readonly exited = new Map<string, number>();

  constructor(readonly retainMs: number) {}

  get size(): number {
    return this.all.size;
  }

  add(e: T): void {
    this.all.set(e.id, e);
    let set = this.live.get(e.containerId);
    if (!set) this.live.set(e.containerId, (set = new Set()));
    set.add(e.id);
  }

  get(id: string): T | undefined {
    return this.all.get(id);
  }

  /** The exec's process is gone: it leaves its container's list and is dropped after retainMs. */
  markExited(id: string, now: number): void {
    const e = this.all.get(id);
    if (!e || this.exited.has(id)) return;
    this.leave(e);
    this.exited.set(id, now);
  }

  delete(id: string): void {
    const e = this.all.get(id);
    if (!e) return;
    this.all.delete(id);
    this.exited.delete(id);
    this.leave(e);
  }

  /** IDs of the container's execs that have not exited (moby's container.ExecCommands). */
  liveIds(containerId: string): string[] {
    return [...(this.live.get(containerId) ?? [])];
  }

  /** Every exec of the container, exited or not. */
  ofContainer(containerId: string): T[] {
    return [...this.all.values()].filter((e) => e.containerId === containerId);
  }

  /** Drops the execs that exited at least retainMs before `now`; returns how many. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [id, at] of this.exited) {
      if (now - at < this.retainMs) break;
      this.delete(id);
      dropped++;
    }
    return dropped;
  }

  private leave(e: T): void {
    const set = this.live.get(e.containerId);
    if (!set) return;
    set.delete(e.id);
    if (set.size === 0) this.live.delete(e.containerId);
  }
}
