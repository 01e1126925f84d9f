/**
 * The images both CRI runtimes pull for the bench, from one registry on 127.0.0.1: busybox (the
 * test fixture) and a sandbox ("pause") image made of the same rootfs whose command sleeps for
 * ever, so that berth and containerd start the very same pod and container.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareFixtures } from '../../test/e2e/harness.js';
import { writeOciLayout } from '../../test/fixtures/image-archive.js';
import { pushImage, startRegistry, type RunningRegistry } from '../../test/fixtures/registry.js';

export interface CriBenchImages {
  registry: RunningRegistry;
  busybox: string;
  pause: string;
}

/** A registry (stopped by the caller) holding busybox:latest and pause:bench. */
export async function criBenchImages(workDir: string): Promise<CriBenchImages> {
  const fx = await prepareFixtures();
  const registry = await startRegistry();
  try {
    await pushImage(registry.host, fx.ociDir, 'bench/busybox:latest');
    const pauseDir = join(workDir, 'pause-oci');
    await writeOciLayout(await readFile(fx.rootfs), pauseDir, undefined, { config: { Cmd: ['sleep', '2147483647'] } });
    await pushImage(registry.host, pauseDir, 'bench/pause:bench');
  } catch (err) {
    await registry.stop();
    throw err;
  }
  return { registry, busybox: `${registry.host}/bench/busybox:latest`, pause: `${registry.host}/bench/pause:bench` };
}
