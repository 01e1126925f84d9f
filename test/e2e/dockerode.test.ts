// dockerode (the Node client most JavaScript tooling sits on) against berth (issue 9, item 7):
// a user-defined network, a named volume and a container on both with a published port to a
// random host port, served by busybox httpd and fetched from the host; a second container finds
// the first by name on the network; cleanup through dockerode leaves nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { daemonForFile, type Daemon } from './harness.js';
import { httpGet, type HttpResult } from '../fixtures/http-get.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET until the server answers (httpd starts a moment after the container does). */
async function getWhenUp(url: string, deadlineMs = 20_000): Promise<HttpResult> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await httpGet(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

describe('dockerode', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('network, volume and a container with a published port, reached from the host', async () => {
    const docker = new Docker({ socketPath: d().socket });
    const tag = `dode${process.pid}`;
    const network = await docker.createNetwork({ Name: `${tag}-net`, Driver: 'bridge', CheckDuplicate: true, Labels: { suite: tag } });
    const volume = await docker.createVolume({ Name: `${tag}-vol`, Labels: { suite: tag } });
    try {
      assert.equal(volume.name, `${tag}-vol`);
      const server = await docker.createContainer({
        name: `${tag}-web`,
        Image: 'busybox:latest',
        Cmd: ['sh', '-c', 'echo served-by-dockerode > /srv/index.html && exec httpd -f -p 80 -h /srv'],
        ExposedPorts: { '80/tcp': {} },
        HostConfig: {
          NetworkMode: `${tag}-net`,
          Binds: [`${tag}-vol:/srv`],
          // an empty HostPort is a free port chosen by the daemon
          PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        },
      });
      await server.start();
      const info = await server.inspect();
      const binding = info.NetworkSettings.Ports['80/tcp']?.[0];
      assert.ok(binding, `Ports: ${JSON.stringify(info.NetworkSettings.Ports)}`);
      assert.equal(binding.HostIp, '127.0.0.1');
      const port = Number(binding.HostPort);
      assert.ok(port > 0, `HostPort ${binding.HostPort}`);
      const res = await getWhenUp(`http://127.0.0.1:${port}/index.html`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'served-by-dockerode\n');

      // the network knows the container, the volume holds what it wrote
      const net = await network.inspect();
      assert.ok(net.Containers?.[info.Id], `network Containers: ${JSON.stringify(net.Containers)}`);
      assert.equal(net.Labels?.suite, tag);
      const vol = await docker.getVolume(`${tag}-vol`).inspect();
      assert.equal(vol.Mountpoint, `${d().dataRoot}/volumes/${tag}-vol/_data`);
      assert.ok(info.Mounts.some((m: any) => m.Type === 'volume' && m.Name === `${tag}-vol` && m.Destination === '/srv'), JSON.stringify(info.Mounts));

      // another container on the network finds the server by its name
      const client = await docker.createContainer({
        name: `${tag}-client`,
        Image: 'busybox:latest',
        Cmd: ['wget', '-q', '-O', '-', `http://${tag}-web/index.html`],
        HostConfig: { NetworkMode: `${tag}-net` },
      });
      await client.start();
      const exit = await client.wait();
      const logs = (await client.logs({ stdout: true, stderr: true })) as Buffer;
      assert.equal(exit.StatusCode, 0, logs.toString());
      assert.match(logs.toString(), /served-by-dockerode/);
      await client.remove();

      await server.stop({ t: 1 });
      await server.remove({ v: true });
    } finally {
      for (const c of await docker.listContainers({ all: true, filters: { name: [tag] } })) await docker.getContainer(c.Id).remove({ force: true });
      await network.remove().catch(() => undefined);
      await docker.getVolume(`${tag}-vol`).remove().catch(() => undefined);
    }
    // gone, as dockerode sees it
    const nets = await docker.listNetworks({ filters: { label: [`suite=${tag}`] } });
    assert.deepEqual(nets, []);
    const vols = await docker.listVolumes({ filters: { label: [`suite=${tag}`] } });
    assert.deepEqual(vols.Volumes ?? [], []);
  });
});
