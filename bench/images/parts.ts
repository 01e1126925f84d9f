/**
 * The image benchmarks as run.ts parts. Each part gets both daemons (berth and, when installed,
 * a private dockerd) and the resources the parts share, made on first use and kept for the run:
 * the ~150 MB test image (test-image.ts) and a registry holding it (registry.ts).
 *
 * A part: `measure(sides, shared)` times the same docker CLI command against each daemon, and
 * `lines(widths)` gives its rows for the table (timingLines / throughputLines). To add one, add
 * its factory to IMAGE_PARTS below.
 */
import type { Docker, Timing } from '../docker-runner.js';
import { benchRegistry, type BenchRegistry } from './registry.js';
import { testImage, type TestImage } from './test-image.js';
import { SaveBench } from './save.js';
import { PullBench } from './pull.js';
import { PushBench } from './push.js';
import { BuildBench } from './build.js';

export interface ImageBenchSide {
  name: 'berth' | 'dockerd';
  /** The docker CLI bound to this daemon. */
  docker: Docker;
  socket: string;
  /** DOCKER_CONFIG for the CLI (the harness's, so no user config leaks in). */
  configDir: string;
  /** The daemon's process id, to read its CPU time (process-cpu.ts). */
  pid?: number;
}

export interface ImagePart {
  readonly name: string;
  measure(sides: ImageBenchSide[], shared: ImageBenchShared): Promise<void>;
  lines(widths: number[]): string[];
}

/** Made once per run on first use; close() stops what was started. */
export class ImageBenchShared {
  private imageP?: Promise<TestImage>;
  private registryP?: Promise<BenchRegistry>;

  /** The busybox + 5 layers, 150 MB test image (cached on disk across runs). */
  image(): Promise<TestImage> {
    this.imageP ??= testImage();
    return this.imageP;
  }

  /** A registry holding image() as registry.ref. */
  registry(): Promise<BenchRegistry> {
    this.registryP ??= this.image().then((img) => benchRegistry(img));
    return this.registryP;
  }

  async close(): Promise<void> {
    const reg = await this.registryP?.catch(() => undefined);
    await reg?.stop();
  }
}

export const IMAGE_PARTS: Record<string, () => ImagePart> = {
  pull: () => new PullBench(),
  save: () => new SaveBench(),
  push: () => new PushBench(),
  'build-cold': () => new BuildBench('cold'),
  'build-warm': () => new BuildBench('warm'),
};

/**
 * The rows of a throughput part: MB/s from the bytes moved and the median time, the ratio
 * berth/dockerd (higher is better), then the medians and min/max times.
 */
export function throughputLines(widths: number[], title: string, goal: string, bytes: number, runs: string, b: Timing, d: Timing | undefined): string[] {
  const pad = (s: string, n: number) => s.padEnd(n);
  const mbps = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);
  return [
    `${pad(title, widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal ${goal})`,
    `${pad(`  MB/s, ${runs}`, widths[0]!)}${pad(`${mbps(b.median)} MB/s`, widths[1]!)}${pad(d ? `${mbps(d.median)} MB/s` : '-', widths[2]!)}${
      d ? `${(d.median / b.median).toFixed(2)}x` : '-'
    }`,
    `${pad('  median time', widths[0]!)}${pad(`${(b.median / 1000).toFixed(2)} s`, widths[1]!)}${d ? `${(d.median / 1000).toFixed(2)} s` : '-'}`,
    `${pad('  min / max', widths[0]!)}${pad(`${b.min.toFixed(0)} / ${b.max.toFixed(0)} ms`, widths[1]!)}${d ? `${d.min.toFixed(0)} / ${d.max.toFixed(0)} ms` : '-'}`,
  ];
}
