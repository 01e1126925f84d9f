// docker-py's network and volume calls against berth (issue 9, item 7): the high-level client
// (client.networks, client.volumes, containers.run with ports=) and its low-level APIClient
// (connect_container_to_network with aliases, inspect_network) as scripts use them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';
import { dockerPyEmits } from './python.js';
import { httpGet } from '../fixtures/http-get.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('docker-py networks and volumes', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('networks, volumes, connect with an alias, and a published port', async () => {
    const tag = `dpy${process.pid}`;
    const [made, connected, looked, ports, gone] = await dockerPyEmits(d(), `
tag = sys.argv[1]
net = client.networks.create(tag + '-net', driver='bridge', labels={'suite': tag})
vol = client.volumes.create(tag + '-vol', labels={'suite': tag})
try:
    srv = client.containers.run('busybox', ['sh', '-c', 'echo from-docker-py > /srv/index.html && exec httpd -f -p 80 -h /srv'],
                                name=tag + '-web', detach=True, network=net.name,
                                volumes={vol.name: {'bind': '/srv', 'mode': 'rw'}}, ports={'80/tcp': ('127.0.0.1', None)})
    emit({'net': net.attrs['Name'], 'labels': net.attrs['Labels'], 'vol': vol.attrs['Mountpoint'], 'volLabels': vol.attrs['Labels']})
    # a second container, created on no network of ours, joins it with an alias through the low-level API
    cli = client.containers.create('busybox', ['sleep', '1000'], name=tag + '-cli')
    cli.start()
    api.connect_container_to_network(cli.id, net.id, aliases=['helper'])
    net.reload()
    emit({'members': sorted(c.name for c in net.containers), 'aliases': api.inspect_container(cli.id)['NetworkSettings']['Networks'][net.name]['Aliases']})
    code, out = cli.exec_run(['wget', '-q', '-O', '-', 'http://' + tag + '-web/index.html'])
    emit({'code': code, 'out': out})
    srv.reload()
    emit(srv.ports)
    for c in (cli, srv):
        c.remove(force=True)
finally:
    net.remove()
    vol.remove()
emit({'nets': [n.name for n in client.networks.list(filters={'label': 'suite=' + tag})],
      'vols': [v.name for v in client.volumes.list(filters={'label': 'suite=' + tag})]})
`, { args: [tag] });
    assert.equal(made.net, `${tag}-net`);
    assert.deepEqual(made.labels, { suite: tag });
    assert.equal(made.vol, `${d().dataRoot}/volumes/${tag}-vol/_data`);
    assert.deepEqual(connected.members, [`${tag}-cli`, `${tag}-web`]);
    assert.ok(connected.aliases.includes('helper'), JSON.stringify(connected.aliases));
    assert.equal(looked.code, 0, looked.out);
    assert.equal(Buffer.from(looked.out, 'latin1').toString(), 'from-docker-py\n');
    const binding = ports['80/tcp']?.[0];
    assert.equal(binding?.HostIp, '127.0.0.1', JSON.stringify(ports));
    assert.ok(Number(binding.HostPort) > 0);
    assert.deepEqual(gone, { nets: [], vols: [] });
  });

  test('containers.run(ports=...) is reached from the host', async () => {
    const n = `dpyport${process.pid}`;
    const [port] = await dockerPyEmits(d(), `
c = client.containers.run('busybox', ['sh', '-c', 'mkdir /www && echo py-port > /www/index.html && exec httpd -f -p 8080 -h /www'],
                          name=sys.argv[1], detach=True, ports={'8080/tcp': None})
c.reload()
emit(c.ports['8080/tcp'][0]['HostPort'])
`, { args: [n] });
    try {
      let res;
      for (let i = 0; ; i++) {
        try {
          res = await httpGet(`http://127.0.0.1:${port}/index.html`);
          break;
        } catch (err) {
          if (i > 100) throw err;
          await sleep(100); // httpd starts a moment after the container does
        }
      }
      assert.equal(res.body, 'py-port\n');
    } finally {
      await d().api('DELETE', `/containers/${n}?force=1`);
    }
  });
});
