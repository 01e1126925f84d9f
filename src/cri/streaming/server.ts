// The streaming server: a plain HTTP server on the configured address whose only answers are
// SPDY/3.1 upgrades of /exec/<token>, /attach/<token> and /portforward/<token>. The Exec, Attach
// and PortForward RPCs store their request under a single-use token and return the URL; the
// client (kubelet's, crictl's, critest's) then upgrades that URL and speaks the k8s protocols.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { StreamingServer } from '../context.js';
import { ACCEPTED_HEADER, negotiate, offeredProtocols, PORT_FORWARD_V1, PROTOCOL_HEADER, REMOTE_COMMAND_V4 } from './protocols.js';
import { serveRemoteCommand, type CommandRunner, type StdioRequest } from './remotecommand.js';
import { servePortForward } from './portforward.js';
import type { PodDialer } from './pod-dial.js';
import { SpdySession } from './spdy/session.js';
import { TokenCache } from './tokens.js';

export type StreamKind = 'exec' | 'attach' | 'portforward';

/** What a token stands for: the work to do once the client has upgraded. */
export type StreamRequest =
  | { kind: 'exec' | 'attach'; stdio: StdioRequest; run: CommandRunner }
  | { kind: 'portforward'; dial: PodDialer };

const SUPPORTED: Record<StreamKind, readonly string[]> = {
  exec: [REMOTE_COMMAND_V4],
  attach: [REMOTE_COMMAND_V4],
  portforward: [PORT_FORWARD_V1],
};

export interface StreamingServerOptions {
  address: string;
  /** 0 = any free port. */
  port: number;
  logger: Logger;
  tokenTtlMs?: number;
}

export class SpdyStreamingServer implements StreamingServer {
  private readonly tokens: TokenCache<StreamRequest>;
  private readonly sessions = new Set<SpdySession>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly http: http.Server,
    readonly baseUrl: string,
    private readonly logger: Logger,
    ttlMs: number | undefined,
  ) {
    this.tokens = new TokenCache<StreamRequest>(ttlMs);
  }

  static async start(opts: StreamingServerOptions): Promise<SpdyStreamingServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as net.AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const self = new SpdyStreamingServer(server, `http://${host}:${addr.port}`, opts.logger, opts.tokenTtlMs);
    server.on('connection', (sock: net.Socket) => {
      self.sockets.add(sock);
      sock.once('close', () => self.sockets.delete(sock));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => self.onPlainRequest(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => self.onUpgrade(req, socket as net.Socket, head));
    return self;
  }

  /** Stores a request; returns the URL the client must upgrade within the token's life. */
  url(req: StreamRequest): string {
    return `${this.baseUrl}/${req.kind}/${this.tokens.insert(req)}`;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private onPlainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Only upgrades are served; a token is not spent on a request that cannot use it.
    const known = parsePath(req.url ?? '') !== null;
    res.writeHead(known ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(known ? 'Upgrade request required\n' : '404 page not found\n');
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const path = parsePath(req.url ?? '');
    if (!path) return reject(socket, 404, 'Not Found', '404 page not found\n');
    if (req.method !== 'POST' && req.method !== 'GET') return reject(socket, 405, 'Method Not Allowed', 'method not allowed\n');
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (!upgrade.split(',').map((v) => v.trim()).includes('spdy/3.1')) return reject(socket, 400, 'Bad Request', 'unable to upgrade: the only supported upgrade is SPDY/3.1\n');
    const entry = this.tokens.consume(path.token);
    // an unknown, spent or expired token, or one minted for another verb
    if (!entry || entry.kind !== path.kind) return reject(socket, 404, 'Not Found', '404 page not found\n');
    const chosen = negotiate(offeredProtocols(req.headers[PROTOCOL_HEADER.toLowerCase()]), SUPPORTED[path.kind]);
    if (!chosen.ok) {
      const extra: Record<string, string> = chosen.status === 403 ? { [ACCEPTED_HEADER]: SUPPORTED[path.kind].join(', ') } : {};
      return reject(socket, chosen.status, chosen.status === 403 ? 'Forbidden' : 'Bad Request', `${chosen.message}\n`, extra);
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Connection: Upgrade\r\n' +
        'Upgrade: SPDY/3.1\r\n' +
        `${PROTOCOL_HEADER}: ${chosen.protocol}\r\n` +
        '\r\n',
    );
    socket.setNoDelay(true);
    const session = new SpdySession(socket, { role: 'server', logger: this.logger }, head);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    if (entry.kind === 'portforward') servePortForward(session, entry.dial, this.logger);
    else void serveRemoteCommand(session, entry.stdio, entry.run, this.logger);
  }
}

function parsePath(url: string): { kind: StreamKind; token: string } | null {
  const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]{1,64})\/?(?:\?.*)?$/.exec(url);
  return m ? { kind: m[1] as StreamKind, token: m[2]! } : null;
}

function reject(socket: net.Socket, status: number, text: string, body: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}
