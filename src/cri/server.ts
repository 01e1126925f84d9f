// The CRI v1 gRPC server on a unix socket, beside the Docker API and over the same engine. The
// daemon imports this module dynamically, and only when CRI is enabled: grpc-js, protobufjs and
// the schema are never loaded otherwise.
import { chmod, chown, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { socketGroup } from '../api/socket-group.js';
import type { Engine } from '../engine/engine.js';
import type { CriConfig } from '../engine/system/cri-config.js';
import { NO_PODS, type CriContext } from './context.js';
import { grpcStatusOf } from './errors.js';
import type { CriCall, CriHandler, CriStreamHandler } from './handler-types.js';
import { imageServiceHandlers } from './image-service.js';
import { criPuller } from './images/pull.js';
import { loadCriServices } from './proto.js';
import { runtimeServiceHandlers } from './runtime-service.js';

export interface CriServer {
  readonly socket: string;
  readonly context: CriContext;
  close(): Promise<void>;
}

/** cri-client (kubelet, crictl, critest) accepts answers up to 16 MiB and may send as much. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export async function startCriServer(engine: Engine, config: CriConfig, logger: Logger): Promise<CriServer> {
  const log = logger.child({ layer: 'cri' });
  const ctx: CriContext = { engine, config, logger: log, pods: NO_PODS, pullImage: criPuller(engine, config), podCidr: '', onClose: [] };
  const services = loadCriServices();
  const runtime = await runtimeServiceHandlers(ctx);
  const image = await imageServiceHandlers(ctx);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  server.addService(services.RuntimeService.service, implementation(services.RuntimeService.service, runtime as Record<string, unknown>, log));
  server.addService(services.ImageService.service, implementation(services.ImageService.service, image as Record<string, unknown>, log));
  try {
    await bindSocket(server, config.socket, engine.config, log);
  } catch (err) {
    server.forceShutdown();
    await runClose(ctx, log);
    throw err;
  }
  log.info({ socket: config.socket }, `CRI listen on ${config.socket}`);
  return {
    socket: config.socket,
    context: ctx,
    async close() {
      await new Promise<void>((resolve) => {
        // calls in flight get a moment; a pull or an exec that outlasts it is cut
        const forced = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(forced);
          resolve();
        });
      });
      // bound under a staging name (see bindSocket): the real path is ours to remove
      await rm(config.socket, { force: true });
      await runClose(ctx, log);
    },
  };
}

async function runClose(ctx: CriContext, log: Logger): Promise<void> {
  for (const fn of ctx.onClose) {
    try {
      await fn();
    } catch (err) {
      log.warn({ err }, 'CRI shutdown step failed');
    }
  }
}

/**
 * Bind as the Docker API socket is bound: under a staging name in the same dir, made 0660 with
 * the daemon's socket group, then renamed over the configured path (which also replaces a stale
 * socket left by a daemon that was killed). No client ever sees it with the wrong mode.
 */
async function bindSocket(server: grpc.Server, socket: string, daemon: { group: string; execRoot: string }, log: Logger): Promise<void> {
  const dir = dirname(socket);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  const group = await socketGroup(daemon.group, socket);
  if (group.warning) log.warn(group.warning);
  const uid = process.getuid?.() ?? 0;
  const staging = await mkdtemp(join(dir, '.berth-cri-'));
  try {
    const bound = join(staging, 'cri.sock');
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${bound}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
    await chmod(bound, 0o660);
    await chown(bound, uid, group.gid);
    await rename(bound, socket);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // a dir the daemon made (or its exec-root) opens to the socket's group, as the API's does
  if (created !== undefined || resolvePath(dir) === resolvePath(daemon.execRoot)) {
    await chown(dir, uid, group.gid);
    await chmod(dir, 0o710);
  }
}

type ServiceDefinition = grpc.ServiceDefinition;

/** grpc-js method implementations for every RPC of a service: the module's handler, or UNIMPLEMENTED. */
function implementation(service: ServiceDefinition, handlers: Record<string, unknown>, log: Logger): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [rpc, def] of Object.entries(service)) {
    const handler = handlers[rpc];
    if (def.responseStream) {
      impl[rpc] = (call: grpc.ServerWritableStream<unknown, unknown>) => void serveStream(rpc, call, handler as CriStreamHandler | undefined, log);
    } else {
      impl[rpc] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        void serveUnary(rpc, call, callback, handler as CriHandler | undefined, log);
    }
  }
  return impl;
}

function callInfo(rpc: string, call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>) {
  const controller = new AbortController();
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw : Number.isFinite(raw) ? new Date(raw) : undefined;
  let timer: NodeJS.Timeout | undefined;
  if (deadline) {
    const ms = deadline.getTime() - Date.now();
    timer = setTimeout(() => controller.abort(new DeadlineError()), Math.max(0, ms));
  }
  call.once('cancelled', () => controller.abort(new CancelledError()));
  const info: CriCall = { method: rpc, signal: controller.signal, deadline };
  return { info, done: () => clearTimeout(timer) };
}

class DeadlineError extends Error {
  override name = 'AbortError';
  constructor() {
    super('deadline exceeded');
  }
}

class CancelledError extends Error {
  override name = 'AbortError';
  constructor() {
    super('call cancelled by the client');
  }
}

async function serveUnary(
  rpc: string,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  callback: grpc.sendUnaryData<unknown>,
  handler: CriHandler | undefined,
  log: Logger,
): Promise<void> {
  if (!handler) {
    log.debug({ rpc }, 'CRI call to an unimplemented method');
    callback({ code: grpc.status.UNIMPLEMENTED, details: `method ${rpc} not implemented` });
    return;
  }
  const { info, done } = callInfo(rpc, call);
  const started = process.hrtime.bigint();
  try {
    const res = await handler(call.request ?? {}, info);
    log.debug({ rpc, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'CRI call');
    callback(null, res);
  } catch (err) {
    const failure = grpcStatusOf(err, { deadlinePassed: info.signal.reason instanceof DeadlineError, cancelled: info.signal.aborted });
    const level = failure.code === grpc.status.UNKNOWN ? 'error' : 'debug';
    log[level]({ rpc, err, code: grpc.status[failure.code] }, 'CRI call failed');
    callback({ code: failure.code, details: failure.details });
  } finally {
    done();
  }
}

async function serveStream(rpc: string, call: grpc.ServerWritableStream<unknown, unknown>, handler: CriStreamHandler | undefined, log: Logger): Promise<void> {
  if (!handler) {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `method ${rpc} not implemented` });
    return;
  }
  const { info, done } = callInfo(rpc, call);
  try {
    for await (const msg of handler(call.request ?? {}, info)) {
      if (info.signal.aborted) break;
      if (!call.write(msg)) await new Promise((r) => call.once('drain', r));
    }
    call.end();
  } catch (err) {
    const failure = grpcStatusOf(err, { deadlinePassed: info.signal.reason instanceof DeadlineError, cancelled: info.signal.aborted });
    log.debug({ rpc, err }, 'CRI stream failed');
    call.emit('error', failure);
  } finally {
    done();
  }
}
