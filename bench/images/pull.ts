/**
 * `docker pull` of the ~150 MB multi-layer test image from the bench registry into each daemon,
 * from a cold store each time (the image removed before every run, so every layer but the
 * busybox base, which both daemons hold, is downloaded, verified and unpacked). Runs alternate
 * between the daemons. Issue 10's goal: berth at least 1.5x dockerd's throughput. Beside wall
 * time, the CPU each daemon used per pull (process-cpu.ts): on a loaded machine it is the steadier
 * figure.
 */
import { timing, type Timing } from '../docker-runner.js';
import { throughputLines, type ImageBenchShared, type ImageBenchSide, type ImagePart } from './parts.js';
import { timedDocker } from './timed-cli.js';
import { processCpuMs } from './process-cpu.js';

const WARMUP = 1;
const RUNS = 3;

export class PullBench implements ImagePart {
  readonly name = 'pull';
  private readonly times = new Map<string, Timing>();
  private readonly cpu = new Map<string, Timing>();
  private bytes = 0;
  private imageNote = '';

  async measure(sides: ImageBenchSide[], shared: ImageBenchShared): Promise<void> {
    const image = await shared.image();
    // what a pull moves: every compressed layer but the busybox base both daemons already have
    this.bytes = image.layers.slice(1).reduce((n, l) => n + l.size, 0);
    this.imageNote = `${image.name}: ${image.layers.length} layers, ${(image.compressedBytes / 1e6).toFixed(0)} MB gzip, ${(image.tarBytes / 1e6).toFixed(0)} MB unpacked`;
    process.stderr.write(`bench: pull of ${image.name} on ${sides.map((s) => s.name).join(' and ')} (${WARMUP} warm-up + ${RUNS} runs)...\n`);
    const ref = (await shared.registry()).ref!;
    const ms = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    const cpuMs = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const side of sides) {
        await timedDocker(side, ['rmi', ref]).catch(() => undefined);
        // rmi frees files after it answers: let that finish so the pull starts cold
        await new Promise((r) => setTimeout(r, 300));
        const cpu0 = side.pid ? await processCpuMs(side.pid) : 0;
        const r = await timedDocker(side, ['pull', '-q', ref]).catch((err: Error) => {
          throw new Error(`${side.name}: ${err.message}`);
        });
        const cpu1 = side.pid ? await processCpuMs(side.pid) : 0;
        if (i >= WARMUP) {
          ms.get(side.name)!.push(r.ms);
          if (side.pid) cpuMs.get(side.name)!.push(cpu1 - cpu0);
        }
      }
    }
    for (const [name, xs] of ms) this.times.set(name, timing(xs));
    for (const [name, xs] of cpuMs) if (xs.length > 0) this.cpu.set(name, timing(xs));
    for (const side of sides) await timedDocker(side, ['rmi', ref]).catch(() => undefined);
  }

  lines(widths: number[]): string[] {
    const b = this.times.get('berth');
    if (!b) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const cpu = (t: Timing | undefined) => (t ? `${(t.median / 1000).toFixed(2)} s` : '-');
    const bc = this.cpu.get('berth');
    const dc = this.cpu.get('dockerd');
    return [
      ...throughputLines(widths, 'docker pull (150 MB image, cold)', '>= 1.5x', this.bytes, `median of ${RUNS} (after ${WARMUP} warm-up)`, b, this.times.get('dockerd')),
      `${pad('  daemon CPU per pull (user+sys), median', widths[0]!)}${pad(cpu(bc), widths[1]!)}${pad(cpu(dc), widths[2]!)}${
        bc && dc ? `${(dc.median / bc.median).toFixed(2)}x` : '-'
      }`,
      `  ${this.imageNote}; MB/s counts the ${(this.bytes / 1e6).toFixed(0)} MB of gzip layers fetched`,
    ];
  }
}
