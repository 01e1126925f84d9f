/**
 * The CRI figures: pod start (RunPodSandbox + CreateContainer + StartContainer of one busybox
 * container, as kubelet starts a one-container pod; the pod is stopped and removed after each
 * round, untimed) and ExecSync latency (`true` in a running container). Rounds alternate
 * between the runtimes so that both see the same machine.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { median } from '../docker-runner.js';
import type { CriClient } from '../../test/fixtures/cri-client.js';

export interface CriSide {
  name: string;
  client: CriClient;
}

export interface Latency {
  median: number;
  p95: number;
  min: number;
  max: number;
}

const WARMUP = 2;
const POD_ROUNDS = 20;
const EXEC_ROUNDS = 50;

const within = (ms: number) => ({ deadline: Date.now() + ms });

/** Stop and remove every pod the runtime lists (the bench's own, after a failure too). */
export async function removeAllPods(client: CriClient): Promise<void> {
  const pods = ((await client.runtime.listPodSandbox({}, within(10_000))).items ?? []) as { id: string }[];
  for (const p of pods) {
    await client.runtime.stopPodSandbox({ podSandboxId: p.id }, within(60_000)).catch(() => undefined);
    await client.runtime.removePodSandbox({ podSandboxId: p.id }, within(60_000)).catch(() => undefined);
  }
}

export function latency(xs: number[]): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const p95 = s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
  return { median: median(xs), p95, min: s[0]!, max: s[s.length - 1]! };
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

export class CriBench {
  readonly podStart = new Map<string, Latency>();
  /** Medians of RunPodSandbox, CreateContainer and StartContainer: where the time goes. */
  readonly phases = new Map<string, number[]>();
  readonly execSync = new Map<string, Latency>();
  private seq = 0;

  constructor(
    private readonly images: { busybox: string; pause: string },
    private readonly logDir: string,
  ) {}

  private podConfig(side: string): Record<string, unknown> {
    const n = this.seq++;
    const name = `bench-${side}-${n}`;
    return {
      metadata: { name, uid: `${name}-${process.pid}`, namespace: 'berth-bench', attempt: 0 },
      hostname: name,
      logDirectory: join(this.logDir, side, name),
      linux: {},
    };
  }

  private containerConfig(): Record<string, unknown> {
    return { metadata: { name: 'busybox', attempt: 0 }, image: { image: this.images.busybox }, command: ['sleep', '3600'], logPath: 'busybox.log', linux: {} };
  }

  /** One pod with one running container; returns the ids and the time to get there (ms). */
  private async startPod(side: CriSide): Promise<{ podId: string; containerId: string; ms: number; phases: number[] }> {
    const config = this.podConfig(side.name);
    // kubelet makes the pod's log directory before it asks for the sandbox
    await mkdir(config.logDirectory as string, { recursive: true });
    const t0 = process.hrtime.bigint();
    const { podSandboxId } = await side.client.runtime.runPodSandbox({ config });
    const t1 = process.hrtime.bigint();
    const { containerId } = await side.client.runtime.createContainer({ podSandboxId, config: this.containerConfig(), sandboxConfig: config });
    const t2 = process.hrtime.bigint();
    await side.client.runtime.startContainer({ containerId });
    const total = ms(t0);
    const gap = (a: bigint, b: bigint) => Number(b - a) / 1e6;
    return { podId: podSandboxId, containerId, ms: total, phases: [gap(t0, t1), gap(t1, t2), total - gap(t0, t2)] };
  }

  private async removePod(side: CriSide, podId: string): Promise<void> {
    await side.client.runtime.stopPodSandbox({ podSandboxId: podId });
    await side.client.runtime.removePodSandbox({ podSandboxId: podId });
  }

  /**
   * Pull both images and start one pod on each side; a side that cannot is left out (with the
   * reason, for the table) so that the other's figures still come.
   */
  private async usable(sides: CriSide[]): Promise<{ ok: CriSide[]; notes: string[] }> {
    const ok: CriSide[] = [];
    const notes: string[] = [];
    for (const s of sides) {
      try {
        await s.client.image.pullImage({ image: { image: this.images.busybox } });
        await s.client.image.pullImage({ image: { image: this.images.pause } });
        const pod = await this.startPod(s);
        await this.removePod(s, pod.podId);
        ok.push(s);
      } catch (err) {
        await removeAllPods(s.client).catch(() => undefined);
        notes.push(`${s.name}: cannot start a pod: ${((err as Error).message ?? String(err)).slice(0, 200)}`);
      }
    }
    return { ok, notes };
  }

  /** Returns notes on the sides left out. */
  async measure(all: CriSide[]): Promise<string[]> {
    const { ok: sides, notes } = await this.usable(all);
    if (sides.length === 0) return notes;
    process.stderr.write(`bench: CRI pod start on ${sides.map((s) => s.name).join(' and ')}, alternating (${WARMUP} warm-up + ${POD_ROUNDS} rounds each)...\n`);
    const times: number[][] = sides.map(() => []);
    const phases: number[][][] = sides.map(() => [[], [], []]);
    for (let i = 0; i < WARMUP + POD_ROUNDS; i++) {
      for (const [k, s] of sides.entries()) {
        const pod = await this.startPod(s);
        await this.removePod(s, pod.podId);
        if (i >= WARMUP) {
          times[k]!.push(pod.ms);
          pod.phases.forEach((t, p) => phases[k]![p]!.push(t));
        }
      }
    }
    for (const [k, s] of sides.entries()) {
      this.podStart.set(s.name, latency(times[k]!));
      this.phases.set(s.name, phases[k]!.map(median));
    }

    process.stderr.write(`bench: CRI ExecSync \`true\` (${WARMUP} warm-up + ${EXEC_ROUNDS} rounds each)...\n`);
    const pods = [];
    for (const s of sides) pods.push(await this.startPod(s));
    try {
      const execs: number[][] = sides.map(() => []);
      for (let i = 0; i < WARMUP + EXEC_ROUNDS; i++) {
        for (const [k, s] of sides.entries()) {
          const t0 = process.hrtime.bigint();
          const res = await s.client.runtime.execSync({ containerId: pods[k]!.containerId, cmd: ['true'], timeout: '10' });
          const t = ms(t0);
          if ((res.exitCode ?? 0) !== 0) throw new Error(`${s.name}: ExecSync true exited ${res.exitCode}: ${res.stderr}`);
          if (i >= WARMUP) execs[k]!.push(t);
        }
      }
      for (const [k, s] of sides.entries()) this.execSync.set(s.name, latency(execs[k]!));
    } finally {
      for (const [k, s] of sides.entries()) await this.removePod(s, pods[k]!.podId).catch(() => undefined);
    }
    return notes;
  }

  private phaseRows(w: number[]): string[] {
    const pad = (s: string, n: number) => s.padEnd(n);
    const b = this.phases.get('berth');
    const c = this.phases.get('containerd');
    if (!b && !c) return [];
    return ['RunPodSandbox', 'CreateContainer', 'StartContainer'].map((name, p) => {
      const cell = (xs: number[] | undefined) => (xs ? `${xs[p]!.toFixed(1)} ms` : '-');
      const ratio = b && c ? `${(b[p]! / c[p]!).toFixed(2)}x` : '-';
      return `${pad(`  median ${name}`, w[0]!)}${pad(cell(b), w[1]!)}${pad(cell(c), w[2]!)}${ratio}`;
    });
  }

  /** Table rows: berth, containerd and the ratio berth/containerd (lower is better). */
  lines(w: number[], note: string, notes: string[] = []): string[] {
    const pad = (s: string, n: number) => s.padEnd(n);
    const f = (x: number) => `${x.toFixed(1)} ms`;
    const rows = (title: string, goal: string, runs: string, m: Map<string, Latency>): string[] => {
      const b = m.get('berth');
      const c = m.get('containerd');
      if (!b && !c) return [];
      const cell = (l: Latency | undefined, pick: (l: Latency) => string) => (l ? pick(l) : '-');
      const ratio = (pick: (l: Latency) => number) => (b && c ? `${(pick(b) / pick(c)).toFixed(2)}x` : '-');
      return [
        `${pad(title, w[0]!)}${pad('berth', w[1]!)}${pad('containerd', w[2]!)}ratio (goal ${goal})`,
        `${pad(`  median of ${runs}`, w[0]!)}${pad(cell(b, (l) => f(l.median)), w[1]!)}${pad(cell(c, (l) => f(l.median)), w[2]!)}${ratio((l) => l.median)}`,
        `${pad('  p95', w[0]!)}${pad(cell(b, (l) => f(l.p95)), w[1]!)}${pad(cell(c, (l) => f(l.p95)), w[2]!)}${ratio((l) => l.p95)}`,
        `${pad('  min / max', w[0]!)}${pad(cell(b, (l) => `${l.min.toFixed(0)} / ${l.max.toFixed(0)} ms`), w[1]!)}${cell(c, (l) => `${l.min.toFixed(0)} / ${l.max.toFixed(0)} ms`)}`,
      ];
    };
    return [
      ...rows('CRI pod start (run pod + create + start)', '<= 0.5x', `${POD_ROUNDS} (after ${WARMUP} warm-up)`, this.podStart),
      ...this.phaseRows(w),
      ...rows('CRI ExecSync `true`', '-', `${EXEC_ROUNDS} (after ${WARMUP} warm-up)`, this.execSync),
      `  containerd: ${note}`,
      ...notes.map((n) => `  ${n}`),
    ];
  }
}
