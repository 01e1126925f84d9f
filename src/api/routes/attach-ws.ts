// GET /containers/{id}/attach/ws: attach over a WebSocket (moby's wsContainersAttach). Output is
// never multiplexed (stdout and stderr both go out as binary messages, API >= 1.28); messages
// from the client are the container's stdin.
//
// @fastify/websocket would take every Upgrade of the server, the `Upgrade: tcp` attach and exec
// hijacks included, so it listens on an emitter of its own that gets the WebSocket upgrades only
// (the hijack registry leaves those to the other upgrade listener).
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Duplex } from 'node:stream';
import type { AttachSink } from '../../engine/containers/attach-hub.js';
import type { ApiContext } from '../context.js';
import { detachKeys } from '../detach-keys.js';
import { isWebSocketHandshake } from '../hijack.js';
import { drained } from '../drain.js';
import { boolParam } from '../query.js';

type Q = Record<string, string | undefined>;

/**
 * The largest message taken from the client (ws' default is 100 MiB, buffered whole before it
 * is delivered). Messages are stdin keystrokes and pastes; a larger one closes the socket (1009).
 */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** What this route uses of a `ws` WebSocket. */
interface WebSocketLike {
  send(data: Buffer, opts: { binary: boolean }, cb: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** Stop (and restart) reading the socket: backpressure for inbound messages. */
  pause(): void;
  resume(): void;
  on(event: 'message', cb: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'error', cb: () => void): void;
}

/**
 * The socket as a Duplex: messages in, binary messages out. Both ways wait for the other side:
 * a write completes once ws handed the frame to the socket, and the socket is not read while
 * the container's stdin has not taken the messages already in.
 */
function messageStream(ws: WebSocketLike): Duplex {
  const d = new Duplex({
    read() {
      ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
    },
  });
  ws.on('message', (data) => {
    if (!d.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data))) ws.pause();
  });
  ws.on('close', () => {
    d.push(null);
    d.destroy();
  });
  ws.on('error', () => d.destroy());
  return d;
}

export async function attachWsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const containers = ctx.engine.containers;
  const wsUpgrades = new EventEmitter();
  app.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (isWebSocketHandshake(req)) wsUpgrades.emit('upgrade', req, socket, head);
  });

  await app.register(async (scope) => {
    await scope.register(websocket, { options: { server: wsUpgrades as never, maxPayload: MAX_MESSAGE_BYTES } });
    type Req = FastifyRequest<{ Params: { id: string }; Querystring: Q }>;
    // moby looks the container and the keys up before the upgrade: errors are plain HTTP answers
    const preValidation = async (request: Req) => {
      containers.get(request.params.id);
      detachKeys(request.query.detachKeys);
    };
    scope.get('/containers/:id/attach/ws', { websocket: true, preValidation }, async (socket: unknown, request: Req) => {
      const ws = socket as WebSocketLike;
      const q = request.query;
      let c;
      let keys: number[];
      try {
        c = containers.get(request.params.id);
        keys = detachKeys(q.detachKeys);
      } catch (err) {
        // removed since the check: the handshake is done, only a close reason can tell
        ws.close(1011, (err as Error).message.slice(0, 120));
        return;
      }
      const stream = messageStream(ws);
      stream.on('error', () => undefined);
      const ac = new AbortController();
      stream.once('close', () => ac.abort());
      let ended = false;
      let sessionOver!: () => void;
      const over = new Promise<void>((resolve) => (sessionOver = resolve));
      ac.signal.addEventListener('abort', () => sessionOver(), { once: true });
      const sink: AttachSink = {
        write: (_name, chunk) => (ended ? true : stream.write(chunk)),
        onceDrain: (cb) => stream.once('drain', cb),
        close: () => {
          if (ended) return;
          ended = true;
          stream.end(() => ws.close(1000)); // after the queued output
          sessionOver();
        },
      };
      const stdout = boolParam(q.stdout, false);
      const stderr = boolParam(q.stderr, false);
      if (boolParam(q.logs, false)) {
        const { entries } = containers.logs(c.id, { stdout, stderr, follow: false, tail: -1, signal: ac.signal });
        for await (const e of entries) {
          if (!sink.write(e.stream, e.data)) await drained(stream);
          if (ac.signal.aborted) break;
        }
      }
      if (!boolParam(q.stream, false)) {
        sink.close();
        return;
      }
      const stdin = boolParam(q.stdin, false);
      if (!stdin) stream.resume();
      await containers.attachStreams(c.id, { stdin: stdin ? stream : null, stdout, stderr, signal: ac.signal, detachKeys: keys }, sink);
      await over;
    });
  });
}
