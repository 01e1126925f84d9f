// Connects API attach clients to a task's stdio. Clients that attach before start (docker run)
// wait here and are connected after the task is created but before its process starts, so no
// output is missed.
import type { Readable } from 'node:stream';
import type { TaskAttach } from '../../runtime/task-backend.js';
import type { ContainerConfig } from './model.js';
import { DEFAULT_DETACH_KEYS, DetachKeyMatcher } from '../exec/detach.js';

export interface AttachOptions {
  /** Client bytes for the container's stdin, or null. */
  stdin: Readable | null;
  stdout: boolean;
  stderr: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The detach sequence on a TTY's stdin (moby's copyEscapable); default ctrl-p ctrl-q; null: none (CRI). */
  detachKeys?: readonly number[] | null;
  /** The client typed the detach sequence: the session ended, the container runs on. */
  onDetach?: () => void;
}

export interface AttachSink {
  /** Returns false when the client is slow; the hub then waits for drain(). */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): boolean;
  onceDrain(cb: () => void): void;
  /** Output is over (the container's output ended or the attach session was closed). */
  close(): void;
}

type StdioConfig = Pick<ContainerConfig, 'Tty' | 'StdinOnce'>;

interface Pending {
  config: StdioConfig;
  opts: AttachOptions;
  sink: AttachSink;
}

/** A connected client: `stalled` while its output waits for the client to drain. */
interface Session {
  stalled: boolean;
  end(): void;
}

export class AttachHub {
  private readonly pending = new Map<string, Set<Pending>>();
  private readonly sessions = new Map<string, Set<Session>>();

  addPending(id: string, config: StdioConfig, opts: AttachOptions, sink: AttachSink): void {
    let set = this.pending.get(id);
    if (!set) this.pending.set(id, (set = new Set()));
    const p: Pending = { config, opts, sink };
    set.add(p);
    opts.signal.addEventListener('abort', () => set!.delete(p), { once: true });
  }

  /** Connect every waiting client; called between task create and start. */
  async connectPending(id: string, open: () => Promise<TaskAttach>, config: StdioConfig): Promise<void> {
    const set = this.pending.get(id);
    this.pending.delete(id);
    if (!set) return;
    await Promise.all(
      [...set].map(async (p) => {
        if (p.opts.signal.aborted) return;
        try {
          this.track(id, wire(await open(), { ...p.config, ...config }, p.opts, p.sink));
        } catch {
          p.sink.close();
        }
      }),
    );
  }

  async connectNow(id: string, open: () => Promise<TaskAttach>, config: StdioConfig, opts: AttachOptions, sink: AttachSink): Promise<void> {
    this.track(id, wire(await open(), config, opts, sink));
  }

  /**
   * The container is being killed: end the sessions whose client stopped reading. conmon
   * blocks on a client that does not read (that is the backpressure), and a blocked conmon
   * never reports the exit; moby likewise closes the attach streams of an exited container.
   */
  releaseStalled(id: string): void {
    for (const s of this.sessions.get(id) ?? []) if (s.stalled) s.end();
  }

  private track(id: string, session: Session & { ended: Promise<void> }): void {
    let set = this.sessions.get(id);
    if (!set) this.sessions.set(id, (set = new Set()));
    set.add(session);
    void session.ended.then(() => {
      set!.delete(session);
      if (set!.size === 0 && this.sessions.get(id) === set) this.sessions.delete(id);
    });
  }

  /** The container will not start (start failed, or it was removed): end the waiting clients. */
  failPending(id: string): void {
    const set = this.pending.get(id);
    this.pending.delete(id);
    for (const p of set ?? []) p.sink.close();
  }
}

function wire(task: TaskAttach, config: StdioConfig, opts: AttachOptions, sink: AttachSink): Session & { ended: Promise<void> } {
  let open = 2;
  let closed = false;
  let ended!: () => void;
  const session = { stalled: false, end: () => finish(), ended: new Promise<void>((r) => (ended = r)) };
  const finish = () => {
    if (closed) return;
    closed = true;
    task.close();
    sink.close();
    ended();
  };
  const pump = (from: Readable, name: 'stdout' | 'stderr', wanted: boolean) => {
    from.on('data', (chunk: Buffer) => {
      if (!wanted || closed) return;
      // A slow client: stop taking output (conmon then waits, and so does the container).
      if (!sink.write(name, chunk) && !session.stalled) {
        session.stalled = true;
        task.stdout.pause();
        task.stderr.pause();
        sink.onceDrain(() => {
          session.stalled = false;
          task.stdout.resume();
          task.stderr.resume();
        });
      }
    });
    from.once('end', () => {
      if (--open === 0) finish();
    });
    from.once('error', () => finish());
  };
  pump(task.stdout, 'stdout', opts.stdout);
  pump(task.stderr, 'stderr', opts.stderr);
  opts.signal.addEventListener('abort', finish, { once: true });
  const stdin = opts.stdin;
  if (stdin && task.stdin) {
    const target = task.stdin;
    target.on('error', () => undefined);
    // Only a TTY's stdin is scanned for the detach keys, as moby does; the matched sequence is
    // swallowed, and a broken one is passed on.
    const detach = config.Tty && opts.detachKeys !== null ? new DetachKeyMatcher(opts.detachKeys ?? DEFAULT_DETACH_KEYS) : null;
    stdin.on('data', (raw: Buffer) => {
      if (closed) return;
      let chunk = raw;
      if (detach) {
        const r = detach.feed(raw);
        if (r.detached) {
          if (r.pass.length > 0) target.write(r.pass);
          finish();
          opts.onDetach?.();
          return;
        }
        if (r.pass.length === 0) return;
        chunk = r.pass;
      }
      if (!target.write(chunk)) {
        stdin.pause();
        target.once('drain', () => stdin.resume());
      }
    });
    stdin.once('end', () => {
      // moby's CopyStreams: StdinOnce without a TTY closes the container's stdin and keeps
      // streaming; otherwise the client's EOF ends this attach session.
      if (config.StdinOnce && !config.Tty) target.end();
      else finish();
    });
  }
  return session;
}
