// The k8s port-forward protocol (portforward.k8s.io) on a SPDY session: for each connection the
// client opens an error stream and a data stream carrying the same `requestid` and `port`
// headers; the pair becomes one TCP connection to the pod's localhost:port. The session lasts
// as long as the client keeps it.
import type { Logger } from 'pino';
import type { SpdySession, SpdyStream } from './spdy/session.js';
import type { PodConnection, PodDialer } from './pod-dial.js';

/** A pair whose other half never comes is dropped after this long (kubelet's stream creation timeout). */
export const PAIR_TIMEOUT_MS = 30_000;
/** Once one direction is over, the other gets this long to finish (containerd waits 1 s too). */
export const LINGER_MS = 1000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

export function servePortForward(session: SpdySession, dial: PodDialer, logger: Logger, pairTimeoutMs = PAIR_TIMEOUT_MS): void {
  const pairs = new Map<string, Pair>();
  const live = new Set<PodConnection>();
  session.on('stream', (s: SpdyStream) => {
    s.reply();
    const type = s.header('streamtype');
    if (type !== 'data' && type !== 'error') {
      s.reset();
      return;
    }
    // Clients without requestid (old ones) open the error stream, then the data stream two ids on.
    const key = s.header('requestid') ?? String(type === 'error' ? s.id + 2 : s.id);
    let pair = pairs.get(key);
    if (!pair) {
      pair = {
        timer: setTimeout(() => {
          pairs.delete(key);
          pair!.data?.reset();
          pair!.error?.reset();
        }, pairTimeoutMs),
      };
      pairs.set(key, pair);
    }
    if (pair[type]) {
      s.reset();
      return;
    }
    pair[type] = s;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(key);
      forward(pair.data, pair.error, dial, live, logger);
    }
  });
  session.once('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const c of live) c.close();
    live.clear();
  });
}

function forward(data: SpdyStream, error: SpdyStream, dial: PodDialer, live: Set<PodConnection>, logger: Logger): void {
  // the client half-closes its error stream at once and only reads it
  error.resume();
  const portText = data.header('port') ?? '';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    error.end(`invalid port: ${JSON.stringify(portText)}`);
    data.end();
    return;
  }
  const conn = dial(port);
  live.add(conn);
  let linger: NodeJS.Timeout | undefined;
  const oneSideDone = () => {
    linger ??= setTimeout(() => conn.close(), LINGER_MS);
  };
  conn.output.pipe(data); // ends the data stream when the target closes
  conn.output.once('end', oneSideDone);
  data.on('data', (chunk: Buffer) => {
    if (!conn.input.write(chunk)) {
      data.pause();
      conn.input.once('drain', () => data.resume());
    }
  });
  data.once('end', () => {
    conn.input.end();
    oneSideDone();
  });
  // reset by the client (it is done with this connection) or its session gone
  data.once('close', () => {
    if (!data.readableEnded || data.resetStatus !== null) conn.close();
  });
  void conn.done.then((failure) => {
    clearTimeout(linger);
    live.delete(conn);
    if (failure) {
      logger.debug({ port, failure }, 'port-forward connection failed');
      error.end(failure);
    } else {
      error.end();
    }
    if (!data.writableEnded) data.end();
  });
}
