// testcontainers (npm) against berth (issue 9, item 7): a GenericContainer from an image the
// test makes, on the default bridge with a random published port and a log-based wait
// strategy; the test talks to it over the mapped port. The reaper (Ryuk) is off: its image
// comes from Docker Hub. The image is local and the default pull policy pulls only what is
// missing, so nothing is fetched: the test checks that no pull happened.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericContainer, Network, PullPolicy, Wait } from 'testcontainers';
import { daemonForFile, type Daemon } from './harness.js';
import { httpGet } from '../fixtures/http-get.js';

const IMAGE = 'berth-tc-web:1';
const PAGE = 'hello from testcontainers';

describe('testcontainers', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  before(async () => {
    // testcontainers reads its configuration once, on first use: this file's daemon only
    process.env.DOCKER_HOST = `unix://${d().socket}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    delete process.env.DOCKER_TLS_VERIFY;
    delete process.env.DOCKER_CERT_PATH;
    delete process.env.TESTCONTAINERS_HOST_OVERRIDE;
    const maker = 'tc-imgsrc';
    await d().dockerOk(['run', '--name', maker, 'busybox', 'sh', '-c', `mkdir /www && echo '${PAGE}' > /www/index.html`]);
    // httpd (not -f) binds its port, then goes to the background: the line after it means ready
    await d().dockerOk(['commit', '--change', 'CMD ["sh", "-c", "httpd -p 80 -h /www && echo serving on 80 && exec sleep 100000"]', '--change', 'EXPOSE 80', maker, IMAGE]);
    await d().dockerOk(['rm', maker]);
  });

  test('GenericContainer with a random published port and Wait.forLogMessage', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const container = await new GenericContainer(IMAGE)
      .withPullPolicy(PullPolicy.defaultPolicy())
      .withExposedPorts(80)
      .withWaitStrategy(Wait.forLogMessage('serving on 80'))
      .withStartupTimeout(60_000)
      .start();
    try {
      const port = container.getMappedPort(80);
      assert.ok(port > 0);
      const res = await httpGet(`http://${container.getHost()}:${port}/index.html`);
      assert.equal(res.status, 200);
      assert.equal(res.body, `${PAGE}\n`);
      // what testcontainers reports agrees with the daemon's inspect
      const ins = (await d().api('GET', `/containers/${container.getId()}/json`)).json;
      assert.ok(
        (ins.NetworkSettings.Ports['80/tcp'] ?? []).some((b: any) => Number(b.HostPort) === port),
        JSON.stringify(ins.NetworkSettings.Ports),
      );
      const exec = await container.exec(['cat', '/www/index.html']);
      assert.equal(exec.exitCode, 0);
      assert.equal(exec.output, `${PAGE}\n`);
    } finally {
      await container.stop({ timeout: 1 });
    }
    assert.equal((await d().api('GET', `/containers/${container.getId()}/json`)).status, 404, 'stop() removes the container');
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = await d().api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['image'] }))}`);
    assert.equal(events.status, 200);
    assert.doesNotMatch(events.text, /"Action":"pull"/, 'testcontainers pulled an image');
  });

  test('a Network: one container reaches another by its network alias', async () => {
    const network = await new Network().start();
    try {
      const server = await new GenericContainer(IMAGE)
        .withNetwork(network)
        .withNetworkAliases('pages')
        .withWaitStrategy(Wait.forLogMessage('serving on 80'))
        .start();
      try {
        // the wait strategy sees the line only if the fetch by alias worked
        const client = await new GenericContainer('busybox:latest')
          .withNetwork(network)
          .withCommand(['sh', '-c', 'wget -q -O /tmp/page http://pages/index.html && echo "fetched: $(cat /tmp/page)" && exec sleep 100000'])
          .withWaitStrategy(Wait.forLogMessage(`fetched: ${PAGE}`))
          .withStartupTimeout(30_000)
          .start();
        try {
          const exec = await client.exec(['cat', '/tmp/page']);
          assert.equal(exec.output, `${PAGE}\n`);
        } finally {
          await client.stop({ timeout: 1 });
        }
      } finally {
        await server.stop({ timeout: 1 });
      }
    } finally {
      await network.stop();
    }
    const left = await d().api('GET', `/networks/${network.getId()}`);
    assert.equal(left.status, 404, 'network.stop() removes the network');
  });
});
