// Exec, Attach and PortForward RPCs: each checks its target, stores the request under a token
// of the streaming server (started here, with the CRI server, and stopped with it) and returns
// the URL the client upgrades to SPDY.
import type { ContainerRecord } from '../../engine/containers/model.js';
import { ConflictError, InvalidParameterError } from '../../errors.js';
import { getCriContainer } from '../containers/lookup.js';
import type { CriContext } from '../context.js';
import type { RuntimeHandlers } from '../handler-types.js';
import { attachRunner, execRunner } from './engine-runners.js';
import { hostDialer, netnsDialer } from './pod-dial.js';
import type { StdioRequest } from './remotecommand.js';
import { SpdyStreamingServer } from './server.js';

interface StdioFields {
  containerId?: string;
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

function runningContainer(ctx: CriContext, ref: string | undefined): ContainerRecord {
  if (!ref) throw new InvalidParameterError('container id must not be empty');
  const c = getCriContainer(ctx.engine, ref);
  if (c.state.Status !== 'running') throw new ConflictError(`container ${c.id} is not running (state ${c.state.Status})`);
  return c;
}

/** containerd's validation of a streaming request's stdio. */
function stdioOf(req: StdioFields): StdioRequest {
  const stdio = { stdin: !!req.stdin, stdout: !!req.stdout, stderr: !!req.stderr, tty: !!req.tty };
  if (stdio.tty && stdio.stderr) throw new InvalidParameterError('tty and stderr cannot both be true');
  if (!stdio.stdin && !stdio.stdout && !stdio.stderr) throw new InvalidParameterError('one of stdin, stdout, or stderr must be set');
  return stdio;
}

export async function streamingHandlers(ctx: CriContext): Promise<RuntimeHandlers> {
  const server = await SpdyStreamingServer.start({
    address: ctx.config.streamAddress,
    port: ctx.config.streamPort,
    logger: ctx.logger.child({ module: 'streaming' }),
  });
  ctx.streaming = server;
  ctx.onClose.push(() => server.close());
  ctx.logger.info({ url: server.baseUrl }, 'CRI streaming server listening');
  return {
    async Exec(req: StdioFields & { cmd?: string[] }) {
      const cmd = req.cmd ?? [];
      if (cmd.length === 0) throw new InvalidParameterError('cmd must not be empty');
      const stdio = stdioOf(req);
      const c = runningContainer(ctx, req.containerId);
      return { url: server.url({ kind: 'exec', stdio, run: execRunner(ctx.engine, c.id, cmd, stdio) }) };
    },
    async Attach(req: StdioFields) {
      const stdio = stdioOf(req);
      const c = runningContainer(ctx, req.containerId);
      return { url: server.url({ kind: 'attach', stdio, run: attachRunner(ctx.engine, c.id) }) };
    },
    async PortForward(req: { podSandboxId?: string; port?: number[] }) {
      if (!req.podSandboxId) throw new InvalidParameterError('pod sandbox id must not be empty');
      const pod = ctx.pods.get(req.podSandboxId);
      if (pod.state !== 'SANDBOX_READY') throw new ConflictError(`pod sandbox ${pod.id} is not ready`);
      if (!pod.hostNetwork && !pod.netnsPath) throw new ConflictError(`pod sandbox ${pod.id} has no network namespace`);
      const dial = pod.hostNetwork ? hostDialer() : netnsDialer(pod.netnsPath!);
      return { url: server.url({ kind: 'portforward', dial }) };
    },
  };
}
