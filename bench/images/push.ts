/**
 * `docker push` of a ~50 MB multi-layer test image to an empty registry (a fresh docker-registry
 * for every run, so nothing is skipped by HEAD or mounted), berth and dockerd alternating.
 * Issue 10's goal: berth at least dockerd's speed.
 *
 * Two ways the image gets into the daemons, since they push differently:
 *   loaded     `docker load` of a tar naming the gzip blobs: berth keeps and sends those blobs;
 *              dockerd 20.10 keeps only unpacked layers and gzips each one again while pushing
 *   plain      the image as dockerd's `docker save` writes it (uncompressed layer tars) loaded
 *              into berth too: both gzip every layer on the way (only with dockerd installed)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '../../test/fixtures/registry.js';
import { timing, type Timing } from '../docker-runner.js';
import { throughputLines, type ImageBenchShared, type ImageBenchSide, type ImagePart } from './parts.js';
import { testImage, type TestImage } from './test-image.js';
import { timedDocker } from './timed-cli.js';

const WARMUP = 1;
const RUNS = 3;
const IMAGE = { layers: 4, sizeMB: 50, name: 'bench/push:latest' };

type Variant = 'loaded' | 'plain';

export class PushBench implements ImagePart {
  readonly name = 'push';
  private readonly times = new Map<Variant, Map<string, Timing>>();
  private image?: TestImage;

  /** Pushes `name` from each side to a registry of its own per run; median times per side. */
  private async timePushes(sides: ImageBenchSide[], local: string): Promise<Map<string, Timing>> {
    const ms = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const side of sides) {
        const reg = await startRegistry();
        const target = `${reg.host}/bench/push:latest`;
        try {
          await timedDocker(side, ['tag', local, target]);
          const r = await timedDocker(side, ['push', '-q', target]).catch((err: Error) => {
            throw new Error(`${side.name}: ${err.message}`);
          });
          if (i >= WARMUP) ms.get(side.name)!.push(r.ms);
          await timedDocker(side, ['rmi', target]);
        } finally {
          await reg.stop();
        }
      }
    }
    return new Map([...ms].map(([name, xs]) => [name, timing(xs)]));
  }

  async measure(sides: ImageBenchSide[], _shared: ImageBenchShared): Promise<void> {
    const image = (this.image = await testImage(IMAGE));
    process.stderr.write(`bench: push of ${image.name} on ${sides.map((s) => s.name).join(' and ')} (${WARMUP} warm-up + ${RUNS} runs per variant)...\n`);
    for (const side of sides) await timedDocker(side, ['load', '-q', '-i', image.archive]);
    try {
      this.times.set('loaded', await this.timePushes(sides, image.name));
    } finally {
      for (const side of sides) await timedDocker(side, ['rmi', image.name]).catch(() => undefined);
    }

    const dockerd = sides.find((s) => s.name === 'dockerd');
    if (!dockerd) return;
    // dockerd's own save: a docker-archive of plain layer tars, which berth then stores plain too
    const dir = await mkdtemp('/tmp/bench-push-');
    try {
      const plain = join(dir, 'plain.tar');
      await timedDocker(dockerd, ['load', '-q', '-i', image.archive]);
      await timedDocker(dockerd, ['save', '-o', plain, image.name]);
      for (const side of sides) if (side !== dockerd) await timedDocker(side, ['load', '-q', '-i', plain]);
      this.times.set('plain', await this.timePushes(sides, image.name));
    } finally {
      for (const side of sides) await timedDocker(side, ['rmi', image.name]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }

  lines(widths: number[]): string[] {
    const image = this.image;
    if (!image) return [];
    const out: string[] = [];
    const runs = `median of ${RUNS} (after ${WARMUP} warm-up)`;
    const loaded = this.times.get('loaded');
    if (loaded?.get('berth')) {
      out.push(...throughputLines(widths, 'docker push (50 MB image, gzip blobs kept)', '>= 1x', image.tarBytes, runs, loaded.get('berth')!, loaded.get('dockerd')));
    }
    const plain = this.times.get('plain');
    if (plain?.get('berth')) {
      out.push(...throughputLines(widths, 'docker push (same, plain layers: both gzip)', '>= 1x', image.tarBytes, runs, plain.get('berth')!, plain.get('dockerd')));
    }
    out.push(
      `  ${image.name}: ${image.layers.length} layers, ${(image.tarBytes / 1e6).toFixed(0)} MB of layer tars, ${(image.compressedBytes / 1e6).toFixed(0)} MB gzip; MB/s counts the layer tars; an empty registry per run`,
    );
    return out;
  }
}
