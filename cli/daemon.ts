// `berth daemon`: serve the Docker Engine API until SIGTERM/SIGINT, leaving containers running.
import { mkdirSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import pino from 'pino';
import { hideHostPaths } from '../src/api/errors.js';
import { buildServer, listen } from '../src/api/server.js';
import { socketGroup, SocketGroupError } from '../src/api/socket-group.js';
import { listenTcp } from '../src/api/tcp-listen.js';
import { parseTcpHost, tcpWarnings } from '../src/engine/system/tcp-hosts.js';
import { ConfigError, parseDaemonArgs } from '../src/engine/system/daemon-config.js';
import { Engine } from '../src/engine/engine.js';

export async function runDaemon(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseDaemonArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth daemon: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  hideHostPaths(config);
  // Before anything starts: a socket group that does not exist is dockerd's start-up failure.
  const groups: number[] = [];
  const unixHosts = config.hosts.filter((h) => h.startsWith('unix://'));
  for (const host of unixHosts) {
    try {
      const found = await socketGroup(config.group, host.slice('unix://'.length));
      if (found.warning) logger.warn(found.warning);
      groups.push(found.gid);
    } catch (err) {
      if (!(err instanceof SocketGroupError)) throw err;
      logger.fatal({ err }, 'failed to start daemon');
      process.stderr.write(`berth daemon: failed to start daemon: failed to load listeners: ${err.message}\n`);
      return 1;
    }
  }
  // A promise some request path forgot to handle is a bug to log, not a reason to drop every
  // other client (containers would survive under conmon, but the API would be gone).
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection (a bug): the daemon carries on'));
  let engine: Engine;
  try {
    engine = await Engine.open(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'failed to start daemon');
    process.stderr.write(`berth daemon: failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  const app = await buildServer({ engine, logger });
  // Hijacked (attach, exec) and WebSocket connections leave the HTTP server's bookkeeping, so
  // closeAllConnections() misses them: one whose client never closes after the daemon's
  // half-close held app.close() until the forced exit, which skipped engine.close() (the default
  // bridge, its anchor and rules stayed; found by the API fuzzer). They are destroyed at shutdown.
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const tcpServers: Server[] = [];
  for (const host of config.hosts) {
    const tcp = parseTcpHost(host);
    if (!tcp) continue;
    // dockerd's words and pauses: 1 s, and 15 s more off loopback (berth has no --tlsverify)
    const { lines, loopback } = tcpWarnings(tcp);
    for (const line of lines) logger.warn({ host }, line);
    await sleep(loopback ? 1000 : 16_000);
    await app.ready();
    tcpServers.push(await listenTcp(app, tcp));
    logger.info({ host }, `API listen on ${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${tcp.port}`);
  }
  // CRI (Kubernetes) before the API's unix sockets, so a client that reaches berth.sock finds it
  // up; loaded only when enabled, so a daemon without it loads none of grpc-js or the schema.
  let cri: { close(): Promise<void> } | undefined;
  if (config.cri.enabled) {
    try {
      const { startCriServer } = await import('../src/cri/server.js');
      cri = await startCriServer(engine, config.cri, logger);
    } catch (err) {
      logger.fatal({ err }, 'failed to start daemon');
      process.stderr.write(`berth daemon: failed to start the CRI server on ${config.cri.socket}: ${(err as Error).message}\n`);
      for (const server of tcpServers) server.close();
      await app.close().catch(() => undefined);
      await engine.close();
      return 1;
    }
  }
  // the unix sockets last: a client that reaches one finds every listener up
  for (const [i, host] of unixHosts.entries()) {
    const path = host.slice('unix://'.length);
    const dir = dirname(path);
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A directory the daemon owns (made here, or its exec-root) opens to the socket's group.
    await listen(app, path, groups[i], { shareDir: created !== undefined || resolvePath(dir) === resolvePath(config.execRoot) });
    logger.info({ socket: path }, `API listen on ${path}`);
  }
  logger.info({ dataRoot: config.dataRoot, execRoot: config.execRoot }, 'berth daemon started');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down; containers keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Long-lived streams (events, logs -f, attach) would hold close() forever.
  const forced = setTimeout(() => process.exit(0), 3000);
  forced.unref();
  for (const server of tcpServers) server.close();
  app.server.closeAllConnections?.();
  for (const socket of sockets) socket.destroy();
  await app.close().catch(() => undefined);
  // The socket was bound under another name (see listen): closing unlinked that one, not this.
  for (const host of unixHosts) rmSync(host.slice('unix://'.length), { force: true });
  await cri?.close().catch((err: unknown) => logger.warn({ err }, 'CRI server shutdown failed'));
  await engine.close();
  return 0;
}
