// The engine's side of the builder (src/images/build/backend.ts): step containers are ordinary
// berth containers, created, started, waited for and removed through ContainerService, so
// events, networking, volumes and the runtime's rules apply to them as to `docker run`. Their
// changes are read from the overlay upper dir as `docker commit` reads them, and COPY/ADD
// extract into the rootfs through docker cp's hardened extraction.
import type { Readable } from 'node:stream';
import type { BuildBackend, BuildHostOptions } from '../../images/build/backend.js';
import type { RunConfig } from '../../images/build/types.js';
import { upperLayerTar } from '../../images/layers/upper-layer-tar.js';
import { resolveUser } from '../../runtime/user.js';
import { RootDir } from '../../util/in-root/root-dir.js';
import { extractInto } from '../archive/extract-into.js';
import { mountpointFilter, withContainerRootfs } from '../containers/rootfs-access.js';
import type { ContainerService } from '../containers/service.js';
import type { AttachSink } from '../containers/attach-hub.js';

/** The run config as a create body: no nulls (the create decoder wants arrays or nothing). */
function createBody(image: string, config: RunConfig, host: BuildHostOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { Image: image, HostConfig: { ...host } };
  for (const [k, v] of Object.entries(config)) if (v !== null && v !== undefined) body[k] = v;
  // [''] is the API's "no entrypoint" (moby's create resets it); berth's create wants []
  if (Array.isArray(body.Entrypoint) && body.Entrypoint.length === 1 && body.Entrypoint[0] === '') body.Entrypoint = [];
  return body;
}

export class EngineBuildBackend implements BuildBackend {
  constructor(private readonly containers: ContainerService) {}

  async create(image: string, config: RunConfig, host: BuildHostOptions): Promise<string> {
    const { Id } = await this.containers.create(createBody(image, config, host), undefined);
    return Id;
  }

  async run(id: string, output: (chunk: Buffer) => void, signal: AbortSignal): Promise<number> {
    const ac = new AbortController();
    let outputEnded!: () => void;
    const ended = new Promise<void>((resolve) => (outputEnded = resolve));
    const sink: AttachSink = {
      write: (_stream, chunk) => {
        output(chunk);
        return true;
      },
      onceDrain: (cb) => cb(),
      close: () => outputEnded(),
    };
    await this.containers.attachStreams(id, { stdin: null, stdout: true, stderr: true, signal: ac.signal }, sink);
    const wait = this.containers.waiter(id, 'next-exit');
    // a client that leaves cancels the build: the step's process goes with it
    const kill = () => void this.containers.kill(id, 'SIGKILL').catch(() => undefined);
    signal.addEventListener('abort', kill);
    try {
      await this.containers.start(id);
      if (signal.aborted) kill();
      const { StatusCode } = await wait();
      await ended;
      return StatusCode;
    } finally {
      signal.removeEventListener('abort', kill);
      ac.abort();
    }
  }

  async copyInto(id: string, make: (root: RootDir) => Promise<Readable>): Promise<void> {
    const c = this.containers.get(id);
    await withContainerRootfs(this.containers, c, (rootfs) =>
      RootDir.with(rootfs, async (root) => {
        const tar = await make(root);
        await extractInto(root, '/', tar, { noOverwriteDirNonDir: false });
      }),
    );
  }

  async mkdirAll(id: string, path: string): Promise<void> {
    const c = this.containers.get(id);
    await withContainerRootfs(this.containers, c, (rootfs) =>
      RootDir.with(rootfs, async (root) => {
        const dir = await root.openDir(path, { create: true });
        await dir.close();
      }),
    );
  }

  async resolveUser(id: string, spec: string): Promise<{ uid: number; gid: number }> {
    const c = this.containers.get(id);
    const u = await withContainerRootfs(this.containers, c, (rootfs) => resolveUser(rootfs, spec));
    return { uid: u.uid, gid: u.gid };
  }

  withRootfs<T>(id: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    return withContainerRootfs(this.containers, this.containers.get(id), fn);
  }

  layer(id: string): Readable {
    const c = this.containers.get(id);
    const { snapshots, images } = this.containers.deps;
    return upperLayerTar(snapshots.upperDir(c.id), images.layerDirs(c.imageId), mountpointFilter(c));
  }

  async remove(id: string): Promise<void> {
    await this.containers.remove(id, { force: true, volumes: true });
  }
}
