// A fuzz run against a running daemon: the targets made, `count` seeded requests from
// openapi.yaml (plus fixed regression requests) sent a few at a time, the raw HTTP abuse, then
// what came back summed up: statuses, every 5xx with its request (explained or not), requests
// left unanswered, the daemon's RSS before and after, unhandled rejections in its log.
import { readFile } from 'node:fs/promises';
import type { Daemon } from '../e2e/harness.js';
import { explain5xx } from './known-5xx.js';
import { loadOperations } from './openapi-ops.js';
import { sampleRequests, type BodySpec, type FuzzRequest } from './generators.js';
import { runAbuse, type AbuseResult } from './raw-abuse.js';
import { send, type Outcome } from './send.js';
import { Targets } from './targets.js';

export interface ServerError {
  request: string;
  status: number;
  message: string;
  /** Why this 5xx is right (a real runtime failure), when it is. */
  explained?: string;
}

export interface FuzzSummary {
  seed: number;
  sent: number;
  byStatus: Record<string, number>;
  byOperation: Record<string, number>;
  serverErrors: ServerError[];
  unanswered: { request: string; why: string }[];
  abuse: AbuseResult[];
  rssBeforeKiB: number;
  rssAfterKiB: number;
  unhandledRejections: number;
  daemonAlive: boolean;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describeBody(b: BodySpec | undefined): string {
  if (!b) return '';
  if ('fixture' in b) return ` <${b.fixture}>`;
  if ('huge' in b) return ` <huge ${b.huge} ${b.size}>`;
  const text = 'text' in b ? b.text : JSON.stringify(b.json);
  return ` ${String(text).slice(0, 300)}`;
}

export function describe(req: FuzzRequest): string {
  const ct = req.contentType === undefined ? '' : ` [content-type ${JSON.stringify(req.contentType)}]`;
  const hd = req.headers ? ` [headers ${JSON.stringify(req.headers)}]` : '';
  return `${req.method} ${req.path.slice(0, 300)}${hd}${ct}${describeBody(req.body)}`;
}

export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** RSS once the daemon has been idle a while (V8 collects when idle; there is no GC hook to call). */
export async function settledRss(d: Daemon, idleMs = 5000): Promise<number> {
  await sleep(idleMs);
  return rssKiB(d.pid!);
}

export async function runFuzz(
  d: Daemon,
  opts: { seed: number; count: number; concurrency?: number; regressions?: FuzzRequest[]; abuse?: boolean; holdMs?: number; progress?: (line: string) => void },
): Promise<FuzzSummary> {
  const t0 = Date.now();
  const ops = loadOperations();
  const targets = new Targets(d);
  await targets.setUp();
  const rssBeforeKiB = await settledRss(d);
  const logBefore = (await d.log()).length;

  const requests = [...(opts.regressions ?? []), ...sampleRequests(ops, opts.seed, opts.count)];
  const summary: FuzzSummary = {
    seed: opts.seed,
    sent: 0,
    byStatus: {},
    byOperation: {},
    serverErrors: [],
    unanswered: [],
    abuse: [],
    rssBeforeKiB,
    rssAfterKiB: 0,
    unhandledRejections: 0,
    daemonAlive: true,
    seconds: 0,
  };
  const record = (req: FuzzRequest, o: Outcome) => {
    summary.sent++;
    const key = o.noAnswer ? o.noAnswer : String(o.status);
    summary.byStatus[key] = (summary.byStatus[key] ?? 0) + 1;
    summary.byOperation[req.op] = (summary.byOperation[req.op] ?? 0) + 1;
    if (o.status >= 500) {
      let message = o.text;
      try {
        message = JSON.parse(o.text).message ?? o.text;
      } catch {
        // a stream or text body: keep its start
      }
      summary.serverErrors.push({ request: describe(req), status: o.status, message: String(message).slice(0, 500), explained: explain5xx(req, o.status, String(message)) });
    }
    if (o.noAnswer && o.noAnswer !== 'client') summary.unanswered.push({ request: describe(req), why: `${o.noAnswer} ${o.text}`.trim() });
  };

  const concurrency = opts.concurrency ?? 4;
  const batch = 100;
  for (let i = 0; i < requests.length && summary.daemonAlive; i += batch) {
    const slice = requests.slice(i, i + batch);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < slice.length) {
          const req = slice[next++];
          record(req, await send(d.socket, req, targets));
        }
      }),
    );
    summary.daemonAlive = d.running;
    if (!summary.daemonAlive) break;
    opts.progress?.(`fuzz: ${Math.min(i + batch, requests.length)}/${requests.length} sent, ${summary.serverErrors.length} 5xx, ${Math.round((Date.now() - t0) / 1000)} s, daemon RSS ${Math.round((await rssKiB(d.pid!)) / 1024)} MiB`);
    await targets.ensure();
  }
  if (summary.daemonAlive && opts.abuse !== false) {
    await targets.ensure();
    summary.abuse = await runAbuse(d, { holdMs: opts.holdMs });
    summary.daemonAlive = d.running;
  }
  if (summary.daemonAlive) summary.rssAfterKiB = await settledRss(d);
  const log = (await d.log()).slice(logBefore);
  summary.unhandledRejections = log.split('\n').filter((l) => l.includes('unhandled promise rejection')).length;
  summary.seconds = Math.round((Date.now() - t0) / 1000);
  return summary;
}

/** The summary as printed by `npm run fuzz`. */
export function formatSummary(s: FuzzSummary): string {
  const lines = [
    `seed ${s.seed}: ${s.sent} requests in ${s.seconds} s; daemon alive: ${s.daemonAlive}; unhandled rejections logged: ${s.unhandledRejections}`,
    `by status: ${Object.entries(s.byStatus)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `operations hit: ${Object.keys(s.byOperation).length}`,
    `RSS before ${Math.round(s.rssBeforeKiB / 1024)} MiB, after ${Math.round(s.rssAfterKiB / 1024)} MiB`,
    `5xx: ${s.serverErrors.length} (${s.serverErrors.filter((e) => !e.explained).length} unexplained)`,
    ...s.serverErrors.map((e) => `  ${e.status} ${e.explained ? '[explained] ' : ''}${e.request.slice(0, 240)} -> ${e.message.slice(0, 200)}${e.explained ? ` (${e.explained})` : ''}`),
    `unanswered within 15 s: ${s.unanswered.length}`,
    ...s.unanswered.slice(0, 30).map((u) => `  ${u.request.slice(0, 200)}: ${u.why}`),
    `raw abuse: ${s.abuse.length} scenarios, ${s.abuse.filter((a) => a.problem).length} problems`,
    ...s.abuse.map((a) => `  ${a.problem ? 'PROBLEM ' : ''}${a.name}: ${a.detail}${a.problem ? ` -- ${a.problem}` : ''}`),
  ];
  return lines.join('\n');
}
