// The mixed workload (issue 11, item 3): N clients, each looping through one container's life
// (create, start, exec, logs, inspect, list, inspect of another client's container, stop, rm)
// and now and then a pull from a local registry, until the time is up. Every answer that is not
// the one Docker gives on success is an error, listed with its cause; the one race Docker
// answers with an error on purpose (another client's container removed between list and
// inspect: 404) is counted apart as expected.
import { call, streamError, type Answer } from './client.js';
import { elapsedMs, Latencies, ProcessSampler } from './measure.js';

export interface MixedOptions {
  socket: string;
  daemonPid: number;
  clients: number;
  durationMs: number;
  /** host:port of a registry serving busybox:latest; no pulls when undefined. */
  registry?: string;
  /** Every how many cycles a client pulls (and uses the default bridge instead of none). */
  pullEvery?: number;
  bridgeEvery?: number;
  /** Prefix of container names, so a run's containers can be told apart. */
  prefix: string;
}

export interface LoadError {
  verb: string;
  status: number;
  cause: string;
}

export interface MixedResult {
  requests: number;
  cycles: number;
  seconds: number;
  latencies: Latencies;
  errors: LoadError[];
  /** Expected races, by kind, with their count. */
  expected: Map<string, number>;
  /** Every container ID created, to look for leftovers. */
  created: string[];
  daemon: { rssPeakMiB: number; rssEndMiB: number; cpuPercent: number };
}

const VERSION = '/v1.45';

export async function runMixed(o: MixedOptions): Promise<MixedResult> {
  const lat = new Latencies();
  const errors: LoadError[] = [];
  const expected = new Map<string, number>();
  const created: string[] = [];
  let cycles = 0;
  const sampler = new ProcessSampler(o.daemonPid);
  await sampler.start();
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + o.durationMs;

  const timed = async (verb: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const s = process.hrtime.bigint();
    const a = await call(o.socket, method, `${VERSION}${path}`, body);
    lat.add(verb, elapsedMs(s));
    return a;
  };
  const fail = (verb: string, a: Answer, what = '') => errors.push({ verb, status: a.status, cause: `${what}${a.text.slice(0, 300)}` });
  const expect = (verb: string, a: Answer, status: number, check?: (text: string) => string | undefined): boolean => {
    if (a.status !== status) {
      fail(verb, a);
      return false;
    }
    const bad = check?.(a.text);
    if (bad) {
      fail(verb, a, `${bad}: `);
      return false;
    }
    return true;
  };

  const cycle = async (client: number, n: number): Promise<void> => {
    if (o.registry && o.pullEvery && n % o.pullEvery === o.pullEvery - 1) {
      const a = await timed('pull', 'POST', `/images/create?fromImage=${encodeURIComponent(`${o.registry}/busybox`)}&tag=latest`);
      expect('pull', a, 200, (t) => streamError(t));
    }
    const name = `${o.prefix}-${client}-${n}`;
    const bridge = o.bridgeEvery !== undefined && n % o.bridgeEvery === 0;
    const c = await timed('create', 'POST', `/containers/create?name=${name}`, {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'echo hello; exec sleep 120'],
      HostConfig: bridge ? {} : { NetworkMode: 'none' },
    });
    if (!expect('create', c, 201)) return;
    const id = (JSON.parse(c.text) as { Id: string }).Id;
    created.push(id);
    try {
      if (!expect('start', await timed('start', 'POST', `/containers/${id}/start`), 204)) return;
      const ec = await timed('exec-create', 'POST', `/containers/${id}/exec`, { Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true });
      if (expect('exec-create', ec, 201)) {
        const eid = (JSON.parse(ec.text) as { Id: string }).Id;
        expect('exec-start', await timed('exec-start', 'POST', `/exec/${eid}/start`, { Detach: false, Tty: false }), 200, (t) =>
          t.includes('hi\n') ? undefined : 'exec output lacks "hi"',
        );
        expect('exec-inspect', await timed('exec-inspect', 'GET', `/exec/${eid}/json`), 200, (t) =>
          (JSON.parse(t) as { ExitCode: number | null }).ExitCode === 0 ? undefined : 'exec exit code is not 0',
        );
      }
      // the container echoes before it sleeps; the start answer may come before the echo, so a
      // log without "hello" is read again (a few times) before it counts as an error
      let logs = await timed('logs', 'GET', `/containers/${id}/logs?stdout=1&stderr=1`);
      for (let again = 0; again < 20 && logs.status === 200 && !logs.text.includes('hello\n'); again++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = await timed('logs', 'GET', `/containers/${id}/logs?stdout=1&stderr=1`);
      }
      expect('logs', logs, 200, (t) => (t.includes('hello\n') ? undefined : 'logs lack "hello"'));
      expect('inspect', await timed('inspect', 'GET', `/containers/${id}/json`), 200, (t) =>
        (JSON.parse(t) as { State: { Running: boolean } }).State.Running ? undefined : 'not running',
      );
      const list = await timed('list', 'GET', `/containers/json${n % 2 ? '?all=1' : ''}`);
      if (expect('list', list, 200)) {
        const others = (JSON.parse(list.text) as { Id: string }[]).filter((x) => x.Id !== id);
        const other = others[(client * 7 + n) % Math.max(1, others.length)];
        if (other) {
          const a = await timed('inspect-other', 'GET', `/containers/${other.Id}/json`);
          if (a.status === 404) expected.set('inspect-other 404: listed, then removed by its client', (expected.get('inspect-other 404: listed, then removed by its client') ?? 0) + 1);
          else expect('inspect-other', a, 200);
        }
      }
      if (n % 4 === 1) expect('stop', await timed('stop', 'POST', `/containers/${id}/stop?t=0`), 204);
    } finally {
      expect('rm', await timed('rm', 'DELETE', `/containers/${id}?force=1`), 204);
      cycles += 1;
    }
  };

  const client = async (i: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      try {
        await cycle(i, n);
      } catch (err) {
        errors.push({ verb: 'harness', status: -1, cause: (err as Error).stack ?? String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));
  const seconds = elapsedMs(t0) / 1000;
  return { requests: lat.total, cycles, seconds, latencies: lat, errors, expected, created, daemon: await sampler.stop() };
}

export function mixedReport(o: MixedOptions, r: MixedResult): string[] {
  return [
    `mixed workload: ${o.clients} clients for ${r.seconds.toFixed(1)} s: ${r.requests} requests (${(r.requests / r.seconds).toFixed(1)}/s), ${r.cycles} container cycles`,
    `daemon: RSS peak ${r.daemon.rssPeakMiB.toFixed(0)} MiB, at end ${r.daemon.rssEndMiB.toFixed(0)} MiB, CPU ${r.daemon.cpuPercent.toFixed(0)}% of one core`,
    ...r.latencies.table(),
    `errors: ${r.errors.length}`,
    ...r.errors.slice(0, 50).map((e) => `  ${e.verb} ${e.status}: ${e.cause}`),
    ...[...r.expected].map(([k, v]) => `expected: ${v} x ${k}`),
  ];
}
