// Watches conmon's exit dir: conmon writes <exit-dir>/<id> (atomically, via a temp file and
// rename) once the container's output is drained. Each exit is reported once per watcher.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskExit } from './task-backend.js';

export interface ExitWatcherOptions {
  exitDir: string;
  /** Where conmon's persist dir for a task lives (holds `oom`). */
  taskDir(id: string): string;
  onError(err: unknown): void;
}

/** Reads the exit recorded for a task, or null when none is there (yet). */
export async function readExit(exitDir: string, taskDir: string, id: string): Promise<TaskExit | null> {
  const path = join(exitDir, id);
  let text: string;
  let finishedAt: Date;
  try {
    [text, finishedAt] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtime)]);
  } catch {
    return null;
  }
  const exitCode = Number.parseInt(text.trim(), 10);
  if (Number.isNaN(exitCode)) return null;
  const oomKilled = await stat(join(taskDir, 'oom')).then(
    () => true,
    () => false,
  );
  return { id, exitCode, oomKilled, finishedAt };
}

// conmon's temp files are `<id>.XXXXXX` (g_file_set_contents); real exit files have no dot.
const isExitFile = (name: string) => !name.includes('.');

export class ExitWatcher {
  private watcher: FSWatcher | undefined;
  private readonly reported = new Set<string>();
  /** Exit files that were there before watching began: old news unless recover() says otherwise. */
  private readonly preexisting = new Set<string>();
  private readonly listeners: ((exit: TaskExit) => void)[] = [];
  private scanning: Promise<void> | undefined;
  private rescan = false;

  constructor(private readonly opts: ExitWatcherOptions) {}

  onExit(listener: (exit: TaskExit) => void): void {
    this.listeners.push(listener);
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /**
   * Start watching. Exit files already present are not reported by scans; the caller reports
   * the ones it cares about (recover) with report().
   */
  async start(): Promise<void> {
    if (this.watcher) return;
    this.watcher = watch(this.opts.exitDir, () => void this.scan());
    this.watcher.on('error', (err) => this.opts.onError(err));
    for (const name of await readdir(this.opts.exitDir)) {
      if (isExitFile(name)) this.preexisting.add(name);
    }
  }

  /** A task with this id is being created again: its next exit is news. */
  forget(id: string): void {
    this.reported.delete(id);
    this.preexisting.delete(id);
  }

  /** Report an exit unless it was reported already. Returns whether it was new. */
  report(exit: TaskExit): boolean {
    if (this.reported.has(exit.id)) return false;
    this.reported.add(exit.id);
    for (const listener of this.listeners) {
      try {
        listener(exit);
      } catch (err) {
        this.opts.onError(err);
      }
    }
    return true;
  }

  /** Look at the exit dir now; coalesces bursts of watch events into one pass. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        try {
          for (const name of await readdir(this.opts.exitDir)) {
            if (!isExitFile(name) || this.reported.has(name) || this.preexisting.has(name)) continue;
            const exit = await readExit(this.opts.exitDir, this.opts.taskDir(name), name);
            if (exit) this.report(exit);
          }
        } catch (err) {
          this.opts.onError(err);
        }
      } while (this.rescan);
      this.scanning = undefined;
    })();
    return this.scanning;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
