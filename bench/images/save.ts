/**
 * `docker save` of the ~150 MB test image on each daemon, the tar read by the CLI and counted
 * (to stdout, never a terminal). The image gets there by `docker load` of the test image's
 * archive (gzip layers, as a pull would store them).
 * Runs alternate between the daemons. Issue 10 sets no ratio for save; the table shows
 * the time ratio (lower is better for berth) and the bytes each daemon wrote: dockerd 20.10
 * writes uncompressed layer tars it makes from its layer dirs, berth streams the stored blobs.
 */
import { timing, timingLines, type Timing } from '../docker-runner.js';
import type { ImageBenchShared, ImageBenchSide, ImagePart } from './parts.js';
import { timedDocker } from './timed-cli.js';

const WARMUP = 1;
const RUNS = 5;

export class SaveBench implements ImagePart {
  readonly name = 'save';
  private readonly times = new Map<string, Timing>();
  private readonly bytes = new Map<string, number>();
  private imageNote = '';

  async measure(sides: ImageBenchSide[], shared: ImageBenchShared): Promise<void> {
    const image = await shared.image();
    this.imageNote = `${image.name}: ${image.layers.length} layers, ${(image.tarBytes / 1e6).toFixed(0)} MB of layer tars, ${(image.compressedBytes / 1e6).toFixed(0)} MB gzip`;
    process.stderr.write(`bench: save of ${image.name} on ${sides.map((s) => s.name).join(' and ')} (${WARMUP} warm-up + ${RUNS} runs)...\n`);
    const ref = image.name;
    for (const side of sides) await timedDocker(side, ['load', '-q', '-i', image.archive]);
    const ms = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const side of sides) {
        const r = await timedDocker(side, ['save', ref]);
        this.bytes.set(side.name, r.stdoutBytes);
        if (i >= WARMUP) ms.get(side.name)!.push(r.ms);
      }
    }
    for (const [name, xs] of ms) this.times.set(name, timing(xs));
    for (const side of sides) await timedDocker(side, ['rmi', ref]);
  }

  lines(widths: number[]): string[] {
    const b = this.times.get('berth');
    if (!b) return [];
    const d = this.times.get('dockerd');
    const mb = (n: number | undefined) => (n === undefined ? '-' : `${(n / 1e6).toFixed(0)} MB`);
    const pad = (s: string, n: number) => s.padEnd(n);
    // min / max of seconds-long runs need wider columns than the latency parts'
    const w = [widths[0]!, Math.max(widths[1]!, 18), Math.max(widths[2]!, 18)];
    return [
      ...timingLines(w, 'docker save (150 MB image) > counted stdout', 'none set', `median of ${RUNS} (after ${WARMUP} warm-up)`, b, d),
      `${pad('  bytes written', w[0]!)}${pad(mb(this.bytes.get('berth')), w[1]!)}${mb(this.bytes.get('dockerd'))}`,
      `  ${this.imageNote}`,
    ];
  }
}
