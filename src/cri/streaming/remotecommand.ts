// The k8s remotecommand protocol (v4.channel.k8s.io) on a SPDY session, for exec and attach:
// the client opens one stream per stdio channel, named by the `streamtype` header; the server
// waits for all it expects before the command starts, runs it, writes a metav1.Status on the
// error stream, ends every stream and closes the session.
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { SpdySession, SpdyStream } from './spdy/session.js';
import { ResizeDecoder, type TerminalSize } from './resize.js';
import { failureStatus, type MetaStatus } from './status.js';

/** containerd and kubelet give the client this long to open its streams. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface StdioRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What a command runner gets: the client's channels, terminal sizes, and a signal for the client leaving. */
export interface CommandIo {
  stdin: Readable | null;
  stdout: Writable | null;
  /** null with a TTY: the terminal merges it into stdout. */
  stderr: Writable | null;
  /** 'resize' events with a TerminalSize. */
  resizes: EventEmitter;
  /** The last size the client sent before the runner was called (its first resize comes at once). */
  lastSize: () => TerminalSize | null;
  /** Aborted when the client goes away before the command ends. */
  signal: AbortSignal;
}

export type CommandRunner = (io: CommandIo) => Promise<MetaStatus>;

type Channel = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

function expectedChannels(req: StdioRequest): Channel[] {
  const out: Channel[] = ['error'];
  if (req.stdin) out.push('stdin');
  if (req.stdout) out.push('stdout');
  if (req.stderr && !req.tty) out.push('stderr');
  if (req.tty) out.push('resize');
  return out;
}

/** Collects the client's streams; resolves once every expected one is open. */
function waitForStreams(session: SpdySession, req: StdioRequest, timeoutMs: number): Promise<Map<Channel, SpdyStream>> {
  const expected = expectedChannels(req);
  const got = new Map<Channel, SpdyStream>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('timed out waiting for client to create streams')), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      session.off('stream', onStream);
      session.off('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => fail(new Error('connection closed before the streams were created'));
    const onStream = (s: SpdyStream) => {
      s.reply();
      const type = s.header('streamtype') as Channel | undefined;
      if (!type || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || got.has(type)) {
        // not one we serve (a v1 client's extra, a duplicate): drop it
        s.reset();
        return;
      }
      got.set(type, s);
      if (expected.every((c) => got.has(c))) {
        cleanup();
        resolve(got);
      }
    };
    session.on('stream', onStream);
    session.once('close', onClose);
  });
}

/** How long a TTY command waits for the client's first terminal size. */
export const FIRST_RESIZE_WAIT_MS = 250;

function firstResize(resizes: EventEmitter, session: SpdySession, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resizes.off('resize', done);
      session.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    resizes.once('resize', done);
    session.once('close', done);
  });
}

/** Serves one exec or attach on an upgraded session; never throws. */
export async function serveRemoteCommand(
  session: SpdySession,
  req: StdioRequest,
  run: CommandRunner,
  logger: Logger,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<void> {
  let streams: Map<Channel, SpdyStream>;
  try {
    streams = await waitForStreams(session, req, timeoutMs);
  } catch (err) {
    logger.debug({ err }, 'streaming: no command streams');
    session.close();
    return;
  }
  const errorStream = streams.get('error')!;
  // Streams the command does not write to still need their FIN at the end; ones it does not
  // read (the error stream, which the client half-closes at once) are drained.
  errorStream.resume();
  const abort = new AbortController();
  const onGone = () => abort.abort();
  session.once('close', onGone);
  const resizes = new EventEmitter();
  const resize = streams.get('resize');
  let last: TerminalSize | null = null;
  if (resize) {
    const decoder = new ResizeDecoder();
    resize.on('data', (chunk: Buffer) => {
      for (const size of decoder.push(chunk)) {
        last = size;
        resizes.emit('resize', size);
      }
    });
  }
  // client-go sends the terminal's size just after it opened the streams: a process started
  // before that arrives begins on a 0x0 terminal (stty and full-screen programs see no size),
  // so a TTY command waits a moment for it.
  if (resize && !last) await firstResize(resizes, session, FIRST_RESIZE_WAIT_MS);
  const stdout = streams.get('stdout') ?? null;
  const stderr = streams.get('stderr') ?? null;
  let status: MetaStatus;
  try {
    status = await run({ stdin: streams.get('stdin') ?? null, stdout, stderr, resizes, lastSize: () => last, signal: abort.signal });
  } catch (err) {
    status = failureStatus((err as Error).message);
  }
  session.off('close', onGone);
  if (session.closed) return;
  errorStream.write(JSON.stringify(status));
  const mine = [stdout, stderr, errorStream, resize, streams.get('stdin')].filter((s): s is SpdyStream => !!s);
  // FIN each of our directions (a stream's FIN is sent a tick after end()), then GOAWAY.
  await Promise.all(mine.map((s) => finished(s.end(), { readable: false }).catch(() => undefined)));
  session.close();
}
