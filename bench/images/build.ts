/**
 * `docker build` with the classic builder (DOCKER_BUILDKIT=0, so dockerd uses its classic
 * builder as berth does) of a small two-stage Dockerfile: FROM busybox, RUN and COPY steps, a
 * COPY --from between the stages; the context holds 300 small files and a 10 MB file.
 *   cold: `--no-cache` each time (goal: at most 0.7x dockerd's time)
 *   warm: the same build again, every step a cache hit (goal: at most 1x)
 * Builds alternate between the daemons; both have the busybox fixture image already.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timing, timingLines, type Timing } from '../docker-runner.js';
import type { ImageBenchShared, ImageBenchSide, ImagePart } from './parts.js';
import { timedDocker } from './timed-cli.js';

const WARMUP = 1;
const RUNS = 5;
const TAG = 'bench/build:latest';
const CLASSIC = { DOCKER_BUILDKIT: '0' };

export const BENCH_DOCKERFILE = `FROM busybox AS base
RUN mkdir -p /app/etc && echo base > /app/etc/stage
COPY src/ /app/src/
RUN find /app -type f | wc -l > /app/etc/count && du -s /app > /app/etc/size
WORKDIR /app

FROM busybox
ENV APP_HOME=/app
COPY --from=base /app /app
COPY data.bin /data/data.bin
RUN cat /app/etc/count /app/etc/size && md5sum /data/data.bin > /data/sum
LABEL bench=build
CMD ["sh"]
`;

/** Writes the build context into a new temp dir. */
export async function makeBuildContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-build-'));
  await writeFile(join(dir, 'Dockerfile'), BENCH_DOCKERFILE);
  await writeFile(join(dir, '.dockerignore'), 'ignored/\n');
  await mkdir(join(dir, 'ignored'));
  await writeFile(join(dir, 'ignored', 'big'), randomBytes(1024 * 1024));
  for (let d = 0; d < 10; d++) {
    await mkdir(join(dir, 'src', `m${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) await writeFile(join(dir, 'src', `m${d}`, `f${f}.txt`), randomBytes(2048 + f * 64).toString('base64'));
  }
  await writeFile(join(dir, 'data.bin'), randomBytes(10 * 1024 * 1024));
  return dir;
}

export class BuildBench implements ImagePart {
  readonly name: string;
  private readonly times = new Map<string, Timing>();

  constructor(private readonly kind: 'cold' | 'warm') {
    this.name = `build-${kind}`;
  }

  async measure(sides: ImageBenchSide[], _shared: ImageBenchShared): Promise<void> {
    process.stderr.write(`bench: ${this.kind} builds on ${sides.map((s) => s.name).join(' and ')} (${WARMUP} warm-up + ${RUNS} runs)...\n`);
    const context = await makeBuildContext();
    const args = ['build', '-q', '--network', 'none', '-t', TAG, ...(this.kind === 'cold' ? ['--no-cache'] : []), context];
    try {
      // a warm build needs a first build to hit
      if (this.kind === 'warm') for (const side of sides) await timedDocker(side, args, CLASSIC);
      const ms = new Map<string, number[]>(sides.map((s) => [s.name, []]));
      for (let i = 0; i < WARMUP + RUNS; i++) {
        for (const side of sides) {
          const r = await timedDocker(side, args, CLASSIC);
          if (i >= WARMUP) ms.get(side.name)!.push(r.ms);
        }
      }
      for (const [name, xs] of ms) this.times.set(name, timing(xs));
    } finally {
      await rm(context, { recursive: true, force: true });
      // the built images and their intermediate ones
      for (const side of sides) {
        await timedDocker(side, ['rmi', TAG]).catch(() => undefined);
        await timedDocker(side, ['image', 'prune', '-f']).catch(() => undefined);
      }
    }
  }

  lines(widths: number[]): string[] {
    const b = this.times.get('berth');
    if (!b) return [];
    const title = this.kind === 'cold' ? 'docker build --no-cache (2 stages, 12 steps)' : 'docker build, all cache hits';
    // min / max of seconds-long runs need wider columns than the latency parts'
    const w = [widths[0]!, Math.max(widths[1]!, 18), Math.max(widths[2]!, 18)];
    return timingLines(w, title, this.kind === 'cold' ? '<= 0.7x' : '<= 1x', `median of ${RUNS} (after ${WARMUP} warm-up)`, b, this.times.get('dockerd'));
  }
}
