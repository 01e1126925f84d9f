/**
 * The images both CRI runtimes pull for the bench, from one registry on 127.0.0.1: busybox (the
 * test fixture) and a sandbox ("pause") image made of the same rootfs whose command sleeps for
 * ever, so that berth and containerd start the very same pod and container.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareFixtures } from '../../test/e2e/harness.js';
import { imageParts } from '../../test/fixtures/image-archive.js';
import { pushImage, startRegistry, type RunningRegistry } from '../../test/fixtures/registry.js';

export interface CriBenchImages {
  registry: RunningRegistry;
  busybox: string;
  pause: string;
}

async function writeLayout(dir: string, rootfs: Buffer, cmd: string[]): Promise<void> {
  const p = imageParts(rootfs, { cmd });
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, p.layerDigest.slice(7)), p.layerGz);
  await writeFile(join(blobs, p.configDigest.slice(7)), p.config);
  await writeFile(join(blobs, p.manifestDigest.slice(7)), p.manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: p.manifestDigest, size: p.manifest.length };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [desc] }));
}

/** A registry (stopped by the caller) holding busybox:latest and pause:bench. */
export async function criBenchImages(workDir: string): Promise<CriBenchImages> {
  const fx = await prepareFixtures();
  const registry = await startRegistry();
  try {
    await pushImage(registry.host, fx.ociDir, 'bench/busybox:latest');
    const pauseDir = join(workDir, 'pause-oci');
    await writeLayout(pauseDir, await readFile(fx.rootfs), ['sleep', '2147483647']);
    await pushImage(registry.host, pauseDir, 'bench/pause:bench');
  } catch (err) {
    await registry.stop();
    throw err;
  }
  return { registry, busybox: `${registry.host}/bench/busybox:latest`, pause: `${registry.host}/bench/pause:bench` };
}
