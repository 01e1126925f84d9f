// One download per blob for the whole daemon: pulls that need a blob another pull is already
// fetching join that download and see its progress, as moby's download manager and
// containerd's ingest locks do. A download stops only when every pull waiting on it has
// left, so one client giving up never cancels another's pull.
export type Progress = (current: number) => void;

interface Flight {
  controller: AbortController;
  users: number;
  listeners: Set<Progress>;
  done: Promise<void>;
}

export class SharedDownloads {
  private readonly flights = new Map<string, Flight>();

  /** Keys being downloaded now (for tests and accounting). */
  inFlight(): string[] {
    return [...this.flights.keys()];
  }

  /**
   * Run `start` for `key` unless a download of it is already running, and wait for it.
   * `signal` is this caller's: when it aborts, this caller stops waiting (rejecting with
   * the abort reason) and the download goes on while others wait for it.
   */
  async run(key: string, start: (signal: AbortSignal, progress: Progress) => Promise<void>, opts: { signal?: AbortSignal; onProgress?: Progress } = {}): Promise<void> {
    opts.signal?.throwIfAborted();
    let flight = this.flights.get(key);
    // A download everyone left is still winding down (its file still being written): a new
    // one starts only after it has.
    while (flight !== undefined && flight.controller.signal.aborted) {
      await flight.done.catch(() => undefined);
      opts.signal?.throwIfAborted();
      flight = this.flights.get(key);
    }
    if (flight === undefined) {
      const controller = new AbortController();
      const listeners = new Set<Progress>();
      const f: Flight = { controller, users: 0, listeners, done: Promise.resolve() };
      f.done = Promise.resolve()
        .then(() =>
          start(controller.signal, (n) => {
            for (const l of listeners) l(n);
          }),
        )
        .finally(() => {
          if (this.flights.get(key) === f) this.flights.delete(key);
        });
      f.done.catch(() => undefined);
      this.flights.set(key, f);
      flight = f;
    }
    const f = flight;
    f.users++;
    if (opts.onProgress) f.listeners.add(opts.onProgress);
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        f.done.then(resolve, reject);
        if (opts.signal) {
          onAbort = () => reject(opts.signal!.reason);
          opts.signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    } finally {
      if (onAbort) opts.signal!.removeEventListener('abort', onAbort);
      if (opts.onProgress) f.listeners.delete(opts.onProgress);
      f.users--;
      // the last one waiting left before the end: nobody wants the rest
      if (f.users === 0 && this.flights.get(key) === f) {
        f.controller.abort(opts.signal?.reason);
        // the last one out waits until the download has stopped writing
        await f.done.catch(() => undefined);
      }
    }
  }
}
