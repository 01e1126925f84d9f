// Wakes a log follower when its file may have changed: an inotify watch on the file's directory
// (which also sees the file being created or replaced by rename), plus a slow poll in case the
// watch misses something or cannot be set up.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

const POLL_WITH_WATCH_MS = 1000;
const POLL_WITHOUT_WATCH_MS = 250;

export class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly path: string) {
    this.tryWatch();
  }

  /** Resolves on a change seen since the last call, a poke, or a poll tick. */
  wait(): Promise<void> {
    if (!this.watcher) this.tryWatch(); // the directory may exist by now
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, this.watcher ? POLL_WITH_WATCH_MS : POLL_WITHOUT_WATCH_MS);
      this.wake = done;
    });
  }

  /** Wakes the current or next wait, for events other than file changes (stop, abort). */
  poke(): void {
    this.changed = true;
    this.wake?.();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }

  private tryWatch(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename !== null && filename !== name && !String(filename).startsWith(name)) return;
        this.changed = true;
        this.wake?.();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // no directory yet: poll
    }
  }
}
