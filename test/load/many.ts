// Many containers at once (issue 11, item 3): N running (daemon and conmon memory, `docker ps`
// latency, an events stream that sees every start, all removed), and N created but never
// started (`docker ps -a` through the API and the CLI, the daemon's start-up with them, all
// removed). Errors are collected, not thrown, so a run reports all of them.
import type { IncomingMessage } from 'node:http';
import { findProcesses, rawRequest, type Daemon } from '../e2e/harness.js';
import { call } from './client.js';
import { cpuSeconds, elapsedMs, percentiles, rssKiB, type Percentiles } from './measure.js';
import { pool } from './pool.js';
import { cliFloorMs } from './cli-floor.js';
import type { LoadError } from './mixed.js';

const VERSION = '/v1.45';
/** Requests in flight while creating and removing: the CLI's `docker rm` sends 50 at a time. */
const WIDTH = 8;

async function timeRuns(runs: number, fn: () => Promise<void>): Promise<Percentiles> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    xs.push(elapsedMs(t0));
  }
  return percentiles(xs);
}

async function createAll(d: Daemon, n: number, prefix: string, errors: LoadError[], start: boolean): Promise<string[]> {
  const ids = await pool(
    Array.from({ length: n }, (_, i) => i),
    WIDTH,
    async (i) => {
      const c = await call(d.socket, 'POST', `${VERSION}/containers/create?name=${prefix}-${i}`, {
        Image: 'busybox',
        Cmd: start ? ['sleep', '3600'] : ['true'],
        HostConfig: { NetworkMode: 'none' },
      });
      if (c.status !== 201) {
        errors.push({ verb: 'create', status: c.status, cause: c.text.slice(0, 300) });
        return undefined;
      }
      const id = (JSON.parse(c.text) as { Id: string }).Id;
      if (start) {
        const s = await call(d.socket, 'POST', `${VERSION}/containers/${id}/start`);
        if (s.status !== 204) errors.push({ verb: 'start', status: s.status, cause: s.text.slice(0, 300) });
      }
      return id;
    },
  );
  return ids.filter((x): x is string => x !== undefined);
}

async function removeAll(d: Daemon, ids: string[], errors: LoadError[]): Promise<void> {
  await pool(ids, WIDTH, async (id) => {
    const r = await call(d.socket, 'DELETE', `${VERSION}/containers/${id}?force=1`);
    if (r.status !== 204) errors.push({ verb: 'rm', status: r.status, cause: r.text.slice(0, 300) });
  });
}

/**
 * A list's length, and when its answer had fully arrived: the figures leave out this process's
 * parse of it (7 MB of JSON for 10,000 containers), which is the client's cost, not the daemon's.
 */
async function listed(d: Daemon, all: boolean, errors: LoadError[]): Promise<{ count: number; at: bigint }> {
  const r = await call(d.socket, 'GET', `${VERSION}/containers/json${all ? '?all=1' : ''}`);
  const at = process.hrtime.bigint();
  if (r.status !== 200) {
    errors.push({ verb: 'list', status: r.status, cause: r.text.slice(0, 300) });
    return { count: -1, at };
  }
  return { count: (JSON.parse(r.text) as unknown[]).length, at };
}

async function countOf(d: Daemon, all: boolean, errors: LoadError[]): Promise<number> {
  return (await listed(d, all, errors)).count;
}

/** Container IDs of the start events an events stream sees, until stopped. */
class StartWatcher {
  readonly started = new Set<string>();
  private res: IncomingMessage | undefined;
  private waiters: (() => void)[] = [];

  async open(d: Daemon): Promise<void> {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start'] }));
    this.res = await rawRequest(d.socket, 'GET', `${VERSION}/events?filters=${filters}`, { timeoutMs: 3_600_000 });
    let buf = '';
    this.res.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        const e = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
        this.started.add(e.Actor?.ID ?? e.id ?? '');
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.res.on('error', () => undefined);
  }

  /** Resolves once every id was seen, or after timeoutMs with what was missing. */
  async seen(ids: string[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((id) => !this.started.has(id));
      if (missing.length === 0 || Date.now() > deadline) return missing;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  close(): void {
    this.res?.destroy();
  }
}

export interface RunningResult {
  n: number;
  createStartSeconds: number;
  daemonRssMiB: number;
  conmons: number;
  conmonRssMiB: number;
  psApi: Percentiles;
  psCli: Percentiles;
  startsSeen: number;
  removeSeconds: number;
  errors: LoadError[];
  ids: string[];
}

export async function runRunning(d: Daemon, n: number, prefix: string, psRuns = 20): Promise<RunningResult> {
  const errors: LoadError[] = [];
  const events = new StartWatcher();
  await events.open(d);
  let ids: string[] = [];
  try {
    const t0 = process.hrtime.bigint();
    ids = await createAll(d, n, prefix, errors, true);
    const createStartSeconds = elapsedMs(t0) / 1000;
    const missing = await events.seen(ids, 60_000);
    for (const id of missing) errors.push({ verb: 'events', status: 0, cause: `no start event for ${id}` });
    const running = await countOf(d, false, errors);
    if (running !== n) errors.push({ verb: 'list', status: 200, cause: `${running} running, ${n} expected` });
    const daemonRssMiB = (await rssKiB(d.pid!)) / 1024;
    const conmons = await findProcesses([d.dataRoot, d.execRoot], 'conmon');
    let conmonKiB = 0;
    for (const p of conmons) conmonKiB += await rssKiB(p.pid);
    const psApi = await timeRuns(psRuns, async () => void (await countOf(d, false, errors)));
    const psCli = await timeRuns(psRuns, async () => {
      const r = await d.docker(['ps']);
      if (r.code !== 0) errors.push({ verb: 'docker ps', status: r.code, cause: r.stderr.slice(0, 300) });
    });
    const t1 = process.hrtime.bigint();
    await removeAll(d, ids, errors);
    const removeSeconds = elapsedMs(t1) / 1000;
    return {
      n,
      createStartSeconds,
      daemonRssMiB,
      conmons: conmons.length,
      conmonRssMiB: conmonKiB / 1024,
      psApi,
      psCli,
      startsSeen: ids.length - missing.length,
      removeSeconds,
      errors,
      ids,
    };
  } finally {
    events.close();
  }
}

export interface CreatedResult {
  n: number;
  createSeconds: number;
  /** The first list after the creates (it builds the list cache's entries), wall and daemon CPU. */
  psAllApiFirstMs: number;
  psAllApiFirstCpuMs: number;
  /** The lists after it. */
  psAllApi: Percentiles;
  /** The daemon's CPU (user + system, all threads) per API list after the first, averaged. */
  psAllApiCpuMs: number;
  psAllCli: Percentiles;
  /** docker ps -a against a server that answers the same bytes and does nothing else: the CLI's own share. */
  psAllCliFloor: Percentiles;
  daemonRssMiB: number;
  /** From spawning the daemon to /_ping answering 200, then to the first `ps -a` answer. */
  startToPingMs: number;
  startToPsMs: number;
  /**
   * The daemon's CPU when /_ping first answered, and when the first ps -a had: beside the wall
   * times, which a busy machine stretches, the part that is the daemon's own.
   */
  startCpuToPingMs: number;
  startCpuToPsMs: number;
  listedAfterRestart: number;
  removeSeconds: number;
  errors: LoadError[];
  ids: string[];
}

export async function runCreated(d: Daemon, n: number, prefix: string, psRuns = 20): Promise<CreatedResult> {
  const errors: LoadError[] = [];
  const t0 = process.hrtime.bigint();
  const ids = await createAll(d, n, prefix, errors, false);
  const createSeconds = elapsedMs(t0) / 1000;
  const apiMs: number[] = [];
  let cpu1 = 0;
  let psAllApiFirstCpuMs = 0;
  for (let i = 0; i <= psRuns; i++) {
    const cpu0 = await cpuSeconds(d.pid!);
    const l0 = process.hrtime.bigint();
    const l = await listed(d, true, errors);
    apiMs.push(Number(l.at - l0) / 1e6);
    if (i === 0) {
      cpu1 = await cpuSeconds(d.pid!);
      psAllApiFirstCpuMs = (cpu1 - cpu0) * 1000;
    }
    if (l.count !== ids.length) errors.push({ verb: 'list', status: 200, cause: `${l.count} listed, ${ids.length} created` });
  }
  const psAllApiCpuMs = (((await cpuSeconds(d.pid!)) - cpu1) * 1000) / psRuns;
  const psAllApiFirstMs = apiMs[0]!;
  const psAllApi = percentiles(apiMs.slice(1));
  const psAllCli = await timeRuns(psRuns, async () => {
    const r = await d.docker(['ps', '-a']);
    if (r.code !== 0) errors.push({ verb: 'docker ps -a', status: r.code, cause: r.stderr.slice(0, 300) });
  });
  const psAllCliFloor = percentiles(await cliFloorMs(d, psRuns));
  const daemonRssMiB = (await rssKiB(d.pid!)) / 1024;

  await d.stop('SIGTERM');
  // the harness's start() polls every 50 ms; this polls every 5 ms beside it for the figure
  const s0 = process.hrtime.bigint();
  const starting = d.start(60_000);
  let startToPingMs = -1;
  let startCpuToPingMs = -1;
  while (startToPingMs < 0) {
    const p = await call(d.socket, 'GET', '/_ping', undefined, 1000);
    if (p.status === 200) {
      startToPingMs = elapsedMs(s0);
      startCpuToPingMs = (await cpuSeconds(d.pid!)) * 1000;
    } else await new Promise((r) => setTimeout(r, 5));
  }
  const afterRestart = await listed(d, true, errors);
  const listedAfterRestart = afterRestart.count;
  const startToPsMs = Number(afterRestart.at - s0) / 1e6;
  const startCpuToPsMs = (await cpuSeconds(d.pid!)) * 1000;
  await starting;
  if (listedAfterRestart !== ids.length) errors.push({ verb: 'list', status: 200, cause: `after restart ${listedAfterRestart} listed, ${ids.length} created` });

  const t1 = process.hrtime.bigint();
  await removeAll(d, ids, errors);
  const removeSeconds = elapsedMs(t1) / 1000;
  return {
    n,
    createSeconds,
    psAllApiFirstMs,
    psAllApiFirstCpuMs,
    psAllApi,
    psAllApiCpuMs,
    psAllCli,
    psAllCliFloor,
    daemonRssMiB,
    startToPingMs,
    startToPsMs,
    startCpuToPingMs,
    startCpuToPsMs,
    listedAfterRestart,
    removeSeconds,
    errors,
    ids,
  };
}

const pct = (p: Percentiles) => `p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms (max ${p.max.toFixed(1)})`;

export function runningReport(r: RunningResult): string[] {
  return [
    `${r.n} running: created and started in ${r.createStartSeconds.toFixed(1)} s (${WIDTH} in flight); removed in ${r.removeSeconds.toFixed(1)} s`,
    `  daemon RSS ${r.daemonRssMiB.toFixed(0)} MiB; ${r.conmons} conmon processes, RSS total ${r.conmonRssMiB.toFixed(0)} MiB`,
    `  GET /containers/json: ${pct(r.psApi)}; docker ps: ${pct(r.psCli)}`,
    `  events stream saw ${r.startsSeen} of ${r.ids.length} starts`,
    `  errors: ${r.errors.length}`,
    ...r.errors.slice(0, 50).map((e) => `    ${e.verb} ${e.status}: ${e.cause}`),
  ];
}

export function createdReport(r: CreatedResult): string[] {
  return [
    `${r.n} created: in ${r.createSeconds.toFixed(1)} s (${WIDTH} in flight); removed in ${r.removeSeconds.toFixed(1)} s; daemon RSS ${r.daemonRssMiB.toFixed(0)} MiB`,
    `  GET /containers/json?all=1: the first ${r.psAllApiFirstMs.toFixed(0)} ms (daemon CPU ${r.psAllApiFirstCpuMs.toFixed(0)} ms), then ${pct(r.psAllApi)}, daemon CPU ${r.psAllApiCpuMs.toFixed(1)} ms per list`,
    `  docker ps -a: ${pct(r.psAllCli)}; the same answer from a canned server: ${pct(r.psAllCliFloor)}`,
    `  restart: spawn to /_ping ${r.startToPingMs.toFixed(0)} ms (daemon CPU ${r.startCpuToPingMs.toFixed(0)} ms), to the first ps -a answer ${r.startToPsMs.toFixed(0)} ms (CPU ${r.startCpuToPsMs.toFixed(0)} ms; ${r.listedAfterRestart} listed)`,
    `  errors: ${r.errors.length}`,
    ...r.errors.slice(0, 50).map((e) => `    ${e.verb} ${e.status}: ${e.cause}`),
  ];
}
