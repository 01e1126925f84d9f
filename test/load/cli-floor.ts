// What `docker ps -a` costs the CLI itself: the same answer served by a server that does nothing
// else (the list's bytes held in memory), timed like the daemon's. With thousands of containers
// the CLI's own decoding and table formatting is most of `docker ps -a`; this figure beside the
// daemon's says how much of it is berth's.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Daemon } from '../e2e/harness.js';
import { call } from './client.js';

/** Serves /_ping and the list's bytes on a unix socket until close(). */
async function cannedServer(list: string): Promise<{ socket: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bt-floor-'));
  const socket = join(dir, 's.sock');
  const server: Server = createServer((req, res) => {
    res.setHeader('Api-Version', '1.50');
    if (req.url?.endsWith('/_ping')) res.end(req.method === 'HEAD' ? undefined : 'OK');
    else if (req.url?.includes('/containers/json')) res.setHeader('Content-Type', 'application/json').end(list);
    else res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"page not found"}');
  });
  server.listen(socket);
  await once(server, 'listening');
  return {
    socket,
    close: async () => {
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Milliseconds of each `docker ps -a` against the canned answer of the daemon's current list. */
export async function cliFloorMs(d: Daemon, runs: number): Promise<number[]> {
  const list = await call(d.socket, 'GET', '/v1.45/containers/json?all=1');
  const canned = await cannedServer(list.text);
  try {
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = await d.docker(['ps', '-a'], { env: { DOCKER_HOST: `unix://${canned.socket}` } });
      if (r.code !== 0) throw new Error(`docker ps -a against the canned list: ${r.stderr}`);
      xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return xs;
  } finally {
    await canned.close();
  }
}
