// Health checks (moby daemon/health.go): a probe runs in the container as an exec every
// interval; its results drive State.Health (starting -> healthy / unhealthy) and events.
import type { Logger } from 'pino';
import type { ContainerRecord, ContainerHealth } from '../containers/model.js';
import type { ContainerService } from '../containers/service.js';
import type { DockerEvent, EventBus } from '../events/bus.js';
import type { ExecService } from '../exec/service.js';

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT_BYTES = 4096;

const nsToMs = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? ns / 1e6 : fallback);

/** The probe's argv, or null when the container has no (or a NONE) health check. */
export function probeCommand(test: string[] | undefined): string[] | null {
  if (!test || test.length === 0) return null;
  switch (test[0]) {
    case 'NONE':
      return null;
    case 'CMD':
      return test.length > 1 ? test.slice(1) : null;
    case 'CMD-SHELL':
      return ['/bin/sh', '-c', test.slice(1).join(' ')];
    default:
      // An image config may hold a bare command (moby treats it as CMD).
      return test;
  }
}

/** One probe result applied to the health state (pure, for the unit tests). */
export function applyResult(
  h: ContainerHealth,
  r: { start: Date; end: Date; exitCode: number; output: string },
  opts: { retries: number; inStartPeriod: boolean },
): ContainerHealth {
  const log = [...h.Log, { Start: r.start.toISOString(), End: r.end.toISOString(), ExitCode: r.exitCode, Output: r.output }].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  // Failures during the start period do not count, unless the container was healthy already.
  if (opts.inStartPeriod && h.Status !== 'healthy') return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= opts.retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}

export class HealthMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly containers: ContainerService,
    private readonly execs: ExecService,
    events: EventBus,
    private readonly logger: Logger,
  ) {
    events.subscribe((ev) => this.onEvent(ev));
  }

  /** Probes for containers already running when the daemon starts. */
  resume(): void {
    for (const c of this.containers.list()) if (c.state.Status === 'running') this.begin(c, false);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private onEvent(ev: DockerEvent): void {
    if (ev.Type !== 'container') return;
    if (ev.Action === 'start') {
      const c = this.find(ev.Actor.ID);
      if (c) this.begin(c, true);
    } else if (ev.Action === 'die' || ev.Action === 'destroy') {
      this.stop(ev.Actor.ID);
    }
  }

  private find(id: string): ContainerRecord | undefined {
    try {
      return this.containers.get(id);
    } catch {
      return undefined;
    }
  }

  private begin(c: ContainerRecord, fresh: boolean): void {
    this.stop(c.id);
    if (!probeCommand(c.config.Healthcheck?.Test)) {
      if (c.state.Health) {
        delete c.state.Health;
        this.containers.save(c);
      }
      return;
    }
    if (fresh || !c.state.Health) {
      c.state.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      this.containers.save(c);
    }
    this.schedule(c);
  }

  private stop(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private inStartPeriod(c: ContainerRecord): boolean {
    const hc = c.config.Healthcheck ?? {};
    return Date.now() - Date.parse(c.state.StartedAt) < nsToMs(hc.StartPeriod, 0);
  }

  private schedule(c: ContainerRecord): void {
    const hc = c.config.Healthcheck ?? {};
    const delay = this.inStartPeriod(c) ? nsToMs(hc.StartInterval, DEFAULT_START_INTERVAL_MS) : nsToMs(hc.Interval, DEFAULT_INTERVAL_MS);
    this.timers.set(
      c.id,
      setTimeout(() => void this.probe(c), delay),
    );
  }

  private async probe(c: ContainerRecord): Promise<void> {
    if (!this.timers.has(c.id) || c.state.Status !== 'running') return;
    const hc = c.config.Healthcheck ?? {};
    const cmd = probeCommand(hc.Test)!;
    const timeoutMs = nsToMs(hc.Timeout, DEFAULT_TIMEOUT_MS);
    const start = new Date();
    let output = '';
    let exitCode: number;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    let execId: string | undefined;
    try {
      const { Id } = await this.execs.create(c.id, {
        User: '', Privileged: false, Tty: false, ConsoleSize: null, AttachStdin: false, AttachStdout: true, AttachStderr: true,
        DetachKeys: '', Env: [], WorkingDir: '', Cmd: cmd,
      }, []);
      execId = Id;
      await this.execs.start(Id, { Detach: false, Tty: false } as Parameters<ExecService['start']>[1], {
        stdin: null,
        signal: ac.signal,
        sink: {
          write: (_stream, chunk) => {
            if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString('utf8');
            return true;
          },
          onceDrain: (cb) => cb(),
        },
      });
      exitCode = ac.signal.aborted ? -1 : (this.execs.inspect(Id).ExitCode ?? -1);
      if (ac.signal.aborted) output = `Health check exceeded timeout (${Math.round(timeoutMs / 1000)}s)`;
    } catch (err) {
      exitCode = -1;
      output = ac.signal.aborted ? `Health check exceeded timeout (${Math.round(timeoutMs / 1000)}s)` : (err as Error).message;
    } finally {
      clearTimeout(timer);
      // One probe per interval for the container's life: its record goes as soon as it is read.
      if (execId) this.execs.forget(execId);
    }
    if (!this.timers.has(c.id) || c.state.Status !== 'running' || !c.state.Health) return;
    const before = c.state.Health.Status;
    c.state.Health = applyResult(c.state.Health, { start, end: new Date(), exitCode, output: output.slice(0, MAX_OUTPUT_BYTES) }, {
      retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
      inStartPeriod: this.inStartPeriod(c),
    });
    this.containers.save(c);
    if (c.state.Health.Status !== before) this.containers.emit(c, `health_status: ${c.state.Health.Status}`);
    this.schedule(c);
  }
}
