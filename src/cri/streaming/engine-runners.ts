// Exec and attach as the streaming server runs them: a CRI container is an ordinary engine
// container, so these are the engine's exec service and attach hub, fed by the SPDY streams.
// Docker's detach keys are not scanned for: kubelet's server never did, and crictl detaches
// on its own side, so ctrl-p reaches the process at once.
import type { Writable } from 'node:stream';
import type { Engine } from '../../engine/engine.js';
import type { ExecSink } from '../../engine/exec/service.js';
import type { CommandIo, CommandRunner, StdioRequest } from './remotecommand.js';
import type { TerminalSize } from './resize.js';
import { exitStatus, successStatus } from './status.js';

/** Output to the client's stdout/stderr streams, waiting for a slow client (so the process waits too). */
function sinkFor(io: CommandIo): ExecSink {
  const target = (stream: 'stdout' | 'stderr'): Writable | null => (stream === 'stderr' ? io.stderr : io.stdout);
  return {
    write(stream, chunk) {
      const t = target(stream);
      if (!t || t.destroyed || t.writableEnded) return true;
      return t.write(chunk);
    },
    onceDrain(cb) {
      const t = [io.stdout, io.stderr].find((s) => s && s.writableNeedDrain && !s.destroyed);
      if (!t) {
        cb();
        return;
      }
      let called = false;
      const once = () => {
        if (called) return;
        called = true;
        t.off('drain', once);
        t.off('close', once);
        cb();
      };
      t.on('drain', once);
      t.on('close', once);
    },
  };
}

/**
 * Resizes applied one after another: an exec's resize waits until the process runs, and two in
 * flight could otherwise land in the wrong order (the terminal left at the older size).
 */
function inOrder(apply: (s: TerminalSize) => Promise<void>): (s: TerminalSize) => void {
  let tail = Promise.resolve();
  return (s) => {
    tail = tail.then(() => apply(s)).catch(() => undefined);
  };
}

export function execRunner(engine: Engine, containerId: string, cmd: string[], stdio: StdioRequest): CommandRunner {
  return async (io) => {
    const { Id } = await engine.execs.create(
      containerId,
      {
        User: '',
        Privileged: false,
        Tty: stdio.tty,
        ConsoleSize: null,
        AttachStdin: io.stdin !== null,
        AttachStdout: io.stdout !== null,
        AttachStderr: io.stderr !== null,
        DetachKeys: '',
        Env: [],
        WorkingDir: '',
        Cmd: cmd,
      },
      [],
    );
    // The client sends its terminal size once, as soon as its streams exist, which may be while
    // the exec was being created; the runtime sizes an exec's terminal only by a resize once it
    // runs (as moby's CLI resizes after start), so that size is sent again as one.
    const onResize = inOrder((s) => engine.execs.resize(Id, s.height, s.width));
    io.resizes.on('resize', onResize);
    // the newest size the client sent while the exec was being created is its first
    const size = io.lastSize();
    if (size) onResize(size);
    // conmon reads its ctl FIFO and the exec's console socket in one loop, in no set order: a
    // resize that comes as the exec starts can be read before the console is there, and dropped.
    // The newest size goes again once the console is surely up (the docker CLI retries its first
    // resize for the same reason); a size the terminal already has raises no SIGWINCH.
    const again = stdio.tty
      ? setTimeout(() => {
          const latest = io.lastSize();
          if (latest) onResize(latest);
        }, 300)
      : undefined;
    try {
      await engine.execs.start(Id, { Detach: false, Tty: stdio.tty, ConsoleSize: size ? [size.height, size.width] : null }, { stdin: io.stdin, sink: sinkFor(io), signal: io.signal, detachKeys: false });
      const code = engine.execs.inspect(Id).ExitCode;
      // still running: a TTY session the client ended by closing stdin (moby leaves the process)
      return code === null ? successStatus() : exitStatus(code, cmd);
    } finally {
      clearTimeout(again);
      io.resizes.off('resize', onResize);
      engine.execs.forget(Id);
    }
  };
}

export function attachRunner(engine: Engine, containerId: string): CommandRunner {
  return async (io) => {
    const size = io.lastSize();
    const resize = inOrder((s) => engine.containers.resize(containerId, s.height, s.width));
    if (size) resize(size);
    io.resizes.on('resize', resize);
    try {
      await new Promise<void>((resolve, reject) => {
        const sink = { ...sinkFor(io), close: () => resolve() };
        engine.containers
          .attachStreams(containerId, { stdin: io.stdin, stdout: io.stdout !== null, stderr: io.stderr !== null, signal: io.signal, detachKeys: null }, sink)
          .catch(reject);
      });
    } finally {
      io.resizes.off('resize', resize);
    }
    // attach never reports an exit code (kubelet's neither): the container's status says it
    return successStatus();
  };
}
