/**
 * The API path for `npm run bench` (issue 3, item 10): one container's create, start, wait and
 * remove through the raw Engine API (what an SDK such as dockerode does), without the CLI.
 * Median ms of RUNS after WARMUP; the wait is posted before the start, as docker run does, so
 * the exit cannot be missed; API v1.41, which Debian's dockerd 20.10 speaks too. Goal: at most
 * 0.5x dockerd's time.
 */
import { rawRequest, readBody } from '../test/e2e/harness.js';
import { timing, type Timing, timingLines } from './docker-runner.js';

const WARMUP = 3;
const RUNS = 20;

async function call(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await rawRequest(socket, method, `/v1.41${path}`, { body, timeoutMs: 60_000 });
  const text = await readBody(res);
  return { status: res.statusCode ?? 0, text };
}

async function must(socket: string, method: string, path: string, status: number, body?: unknown): Promise<string> {
  const r = await call(socket, method, path, body);
  if (r.status !== status) throw new Error(`api bench: ${method} ${path}: ${r.status} ${r.text}`);
  return r.text;
}

/** create -> wait (posted) -> start -> wait returns -> delete; resolves with the wall time in ms. */
async function cycle(socket: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const { Id: id } = JSON.parse(
    await must(socket, 'POST', '/containers/create', 201, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }),
  ) as { Id: string };
  const waited = must(socket, 'POST', `/containers/${id}/wait?condition=next-exit`, 200);
  await must(socket, 'POST', `/containers/${id}/start`, 204);
  const result = JSON.parse(await waited) as { StatusCode: number };
  if (result.StatusCode !== 0) throw new Error(`api bench: container exited ${result.StatusCode}`);
  await must(socket, 'DELETE', `/containers/${id}`, 204);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export class ApiPathBench {
  private readonly timings = new Map<'berth' | 'dockerd', Timing>();

  /** sockets: side -> daemon socket; runs alternate between the daemons. */
  async measure(sockets: Map<'berth' | 'dockerd', string>): Promise<void> {
    process.stderr.write(`bench: API create-start-wait-remove on ${[...sockets.keys()].join(' and ')} (${WARMUP} warm-up + ${RUNS} runs each)...\n`);
    for (let i = 0; i < WARMUP; i++) for (const s of sockets.values()) await cycle(s);
    const times = new Map<'berth' | 'dockerd', number[]>([...sockets.keys()].map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [side, s] of sockets) times.get(side)!.push(await cycle(s));
    for (const [side, xs] of times) this.timings.set(side, timing(xs));
  }

  lines(widths: number[]): string[] {
    const b = this.timings.get('berth');
    const d = this.timings.get('dockerd');
    if (!b) return [];
    return timingLines(widths, 'API create+start+wait+remove (true)', '<= 0.5x', `median of ${RUNS} (after ${WARMUP} warm-up)`, b, d);
  }
}
