// OCI layouts made by other tools load into berth and run (issue 10, item 3): one made by umoci
// (init, new, unpack, repack, config: two layers, blobs it no longer references left in place)
// and one skopeo copied from a docker-archive, each as a tar of the layout given to docker load.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, prepareFixtures, runCommand, type Daemon } from './harness.js';

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await runCommand(cmd, cwd ? ['-C', cwd, ...args] : args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.code}\n${r.stderr}`);
  return r.stdout;
}

describe('OCI layouts from umoci and skopeo', () => {
  const f = daemonForFile();
  let d: Daemon;
  let work: string;
  before(async () => {
    d = f.daemon();
    work = await mkdtemp('/tmp/bt-oci-interop-');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** `docker load` of a tar of the layout dir; returns the loaded image's ID or name. */
  async function loadLayout(dir: string): Promise<string> {
    const tarball = `${dir}.tar`;
    await run('tar', ['-cf', tarball, '-C', dir, '.']);
    const out = await d.dockerOk(['load', '-i', tarball]);
    const m = /^Loaded image(?: ID)?: (\S+)$/m.exec(out);
    assert.ok(m, out);
    return m[1];
  }

  test('a layout umoci made (two layers, a config it changed, stale blobs) loads and runs', async () => {
    const fx = await prepareFixtures();
    const layout = join(work, 'umoci');
    const bundle = join(work, 'bundle');
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:v1`]);
    await run('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    await run('tar', ['-xf', fx.rootfs, '-C', join(bundle, 'rootfs')]);
    await run('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
    await rm(bundle, { recursive: true, force: true });
    await run('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    await writeFile(join(bundle, 'rootfs', 'greeting'), 'hello from umoci\n');
    await run('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
    await run('umoci', ['config', '--image', `${layout}:v1`, '--config.cmd', 'cat', '--config.cmd', '/greeting', '--config.env', 'FROM_UMOCI=1']);
    const image = await loadLayout(layout);
    const inspect = JSON.parse(await d.dockerOk(['image', 'inspect', image]))[0];
    assert.equal(inspect.RootFS.Layers.length, 2);
    assert.deepEqual(inspect.Config.Cmd, ['cat', '/greeting']);
    assert.equal(await d.dockerOk(['run', '--rm', image]), 'hello from umoci');
    assert.equal(await d.dockerOk(['run', '--rm', image, 'sh', '-c', 'echo $FROM_UMOCI']), '1');
    await d.dockerOk(['rmi', image]);
  });

  test('a layout skopeo copied from a docker-archive loads and runs', async () => {
    const fx = await prepareFixtures();
    const layout = join(work, 'skopeo');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `docker-archive:${fx.archive}`, `oci:${layout}:interop`]);
    const image = await loadLayout(layout);
    const inspect = JSON.parse(await d.dockerOk(['image', 'inspect', image]))[0];
    // skopeo rewrites the config as an OCI one (a new image ID); the layer is the same
    const busybox = JSON.parse(await d.dockerOk(['image', 'inspect', 'busybox']))[0];
    assert.deepEqual(inspect.RootFS.Layers, busybox.RootFS.Layers);
    assert.equal(await d.dockerOk(['run', '--rm', image, 'echo', 'skopeo ok']), 'skopeo ok');
  });
});
