/**
 * A local registry for the image benchmarks: Debian's docker-registry on 127.0.0.1 (a free
 * port, storage in a temp dir), optionally holding the test image, pushed there with skopeo.
 * Both daemons reach it as an insecure registry without configuration: dockerd and berth treat
 * loopback registries as plain HTTP.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRegistry, type RunningRegistry } from '../../test/fixtures/registry.js';
import type { TestImage } from './test-image.js';

const run = promisify(execFile);

export interface BenchRegistry extends RunningRegistry {
  /** host/name:tag of the image pushed at start, when one was. */
  ref?: string;
}

/** skopeo copy of the image's OCI layout to host/name. */
export async function pushWithSkopeo(host: string, image: TestImage, name = image.name): Promise<string> {
  const ref = `${host}/${name}`;
  await run('skopeo', ['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false', `oci:${image.ociDir}`, `docker://${ref}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return ref;
}

/** Starts an empty registry, or one holding `image` when given. */
export async function benchRegistry(image?: TestImage): Promise<BenchRegistry> {
  const reg = await startRegistry();
  if (!image) return reg;
  try {
    return { ...reg, ref: await pushWithSkopeo(reg.host, image) };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}
