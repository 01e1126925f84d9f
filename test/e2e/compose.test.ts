// docker-compose (Debian's 1.29.2, docker-py underneath) against berth (issue 9, item 7): an app
// of three services on a user-defined network, reaching each other by service name, a named
// volume that outlives `down`, a published port reached from the host, depends_on with a
// healthcheck, scale, logs, exec, restart, stop/start, run --rm, and `down -v` leaving nothing
// behind.
//
// The steps share one compose project and run in order, each one a test: a failing step names
// what broke, and the ones after it may fail for the same reason.
//
// The web image is made with `docker commit` (what a Dockerfile's RUN and CMD would give):
// berth has no `docker build` yet. Once it does, `web` should use `build:` with a Dockerfile
// in test/fixtures so compose's build path is covered too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, runCommand, type CmdResult, type Daemon } from './harness.js';
import { httpGet } from '../fixtures/http-get.js';

const COMPOSE_BIN = process.env.BERTH_TEST_COMPOSE ?? '/usr/bin/docker-compose';
const WEB_IMAGE = 'berth-compose-web:1';
const PAGE = 'hello from web';

// Compose's v2.x schema (1.29 reads it as the compose spec): healthcheck and
// depends_on.condition. web starts httpd only after 3 s, so a client that did not wait for the
// healthcheck would find nothing listening; web's port has no fixed host side, so it scales.
const COMPOSE_FILE = `version: "2.4"
services:
  web:
    image: ${WEB_IMAGE}
    ports: ["80"]
    networks: [appnet]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/index.html"]
      interval: 1s
      timeout: 5s
      retries: 60
  store:
    image: busybox:latest
    command: ["sh", "-c", "echo boot >> /data/boots; exec sleep 100000"]
    volumes: ["appdata:/data"]
    networks: [appnet]
  client:
    image: busybox:latest
    command: ["sh", "-c", "wget -q -O - http://web/index.html && exec sleep 100000"]
    networks: [appnet]
    depends_on:
      web:
        condition: service_healthy
      store:
        condition: service_started
networks:
  appnet: {}
volumes:
  appdata: {}
`;

describe('docker-compose 1.29', { skip: existsSync(COMPOSE_BIN) ? false : `${COMPOSE_BIN} not installed` }, () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();
  const project = `bc${process.pid}`;
  let dir = '';

  const compose = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CmdResult> =>
    runCommand(COMPOSE_BIN, ['--ansi', 'never', '-p', project, '-f', join(dir, 'docker-compose.yml'), ...args], {
      timeoutMs: 180_000,
      env: {
        ...process.env,
        DOCKER_HOST: `unix://${d().socket}`,
        DOCKER_CONFIG: d().dockerConfig,
        COMPOSE_HTTP_TIMEOUT: '120',
        ...env,
      },
    });
  const composeOk = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await compose(args, env);
    if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- daemon log (tail):\n${(await d().log()).slice(-6000)}`);
    return r.stdout.trim();
  };
  /** The project's containers (API), optionally of one service. */
  const containers = async (service?: string): Promise<any[]> => {
    const filters = { label: [`com.docker.compose.project=${project}`, ...(service ? [`com.docker.compose.service=${service}`] : [])] };
    const r = await d().api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  /** `docker-compose port` -> the host port (compose prints 0.0.0.0:PORT). */
  const hostPort = async (service: string, index: number): Promise<number> => {
    const out = await composeOk(['port', '--index', String(index), service, '80']);
    const m = /:(\d+)$/.exec(out);
    assert.ok(m, `docker-compose port printed ${JSON.stringify(out)}`);
    return Number(m[1]);
  };
  const boots = async (): Promise<string[]> => (await composeOk(['exec', '-T', 'store', 'cat', '/data/boots'])).split('\n').filter(Boolean);

  before(async () => {
    dir = await mkdtemp('/tmp/bt-compose-');
    await writeFile(join(dir, 'docker-compose.yml'), COMPOSE_FILE);
    // the image a Dockerfile would build: a page to serve and httpd as the command
    const maker = `${project}-imgsrc`;
    await d().dockerOk(['run', '--name', maker, 'busybox', 'sh', '-c', `mkdir /www && echo '${PAGE}' > /www/index.html`]);
    await d().dockerOk([
      'commit',
      '--change', 'CMD ["sh", "-c", "sleep 3; exec httpd -f -p 80 -h /www"]',
      '--change', 'EXPOSE 80',
      maker,
      WEB_IMAGE,
    ]);
    await d().dockerOk(['rm', maker]);
  });

  after(async () => {
    // a failed step may leave the project up: take it down before the daemon's own cleanup
    if (d()?.running) await compose(['down', '-v', '--timeout', '1']);
    await rm(dir, { recursive: true, force: true });
  });

  test('up -d: client waits for web to be healthy, then reaches it by service name', async () => {
    await composeOk(['up', '-d']);
    const [web] = await containers('web');
    assert.ok(web, 'no web container');
    const webInspect = (await d().api('GET', `/containers/${web.Id}/json`)).json;
    assert.equal(webInspect.State.Health?.Status, 'healthy', 'compose returned before web was healthy');
    const [client] = await containers('client');
    // the client's first command fetched http://web/: it exits non-zero if web was not there
    const c = (await d().api('GET', `/containers/${client.Id}/json`)).json;
    assert.equal(c.State.Running, true, `client exited ${c.State.ExitCode}: ${await composeOk(['logs', '--no-color', 'client'])}`);
    // all three on the project's network, under their service name as an alias
    const net = `${project}_appnet`;
    for (const s of ['web', 'store', 'client']) {
      const [x] = await containers(s);
      const ins = (await d().api('GET', `/containers/${x.Id}/json`)).json;
      assert.ok(ins.NetworkSettings.Networks[net], `${s} is not on ${net}: ${JSON.stringify(Object.keys(ins.NetworkSettings.Networks))}`);
      assert.ok(ins.NetworkSettings.Networks[net].Aliases.includes(s), `${s}'s aliases: ${JSON.stringify(ins.NetworkSettings.Networks[net].Aliases)}`);
    }
  });

  test('logs shows what the client fetched from web', async () => {
    const out = await composeOk(['logs', '--no-color', 'client']);
    assert.match(out, new RegExp(`client_1 +\\| ${PAGE}`));
  });

  test("web's published port is reached from the host", async () => {
    const port = await hostPort('web', 1);
    const res = await httpGet(`http://127.0.0.1:${port}/index.html`);
    assert.equal(res.status, 200);
    assert.equal(res.body, `${PAGE}\n`);
  });

  test('exec -T runs in a service container (through the docker CLI and through the API)', async () => {
    // compose 1.29 hands exec to the docker CLI unless COMPOSE_INTERACTIVE_NO_CLI is set
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), PAGE);
    assert.equal(await composeOk(['exec', '-T', 'client', 'cat', '/etc/resolv.conf'], { COMPOSE_INTERACTIVE_NO_CLI: '1' }).then((s) => /^nameserver 127\.0\.0\.11$/m.test(s)), true);
    const code = await compose(['exec', '-T', 'store', 'sh', '-c', 'exit 3'], { COMPOSE_INTERACTIVE_NO_CLI: '1' });
    assert.equal(code.code, 3, code.stderr);
  });

  test('the store service writes to the named volume', async () => {
    assert.deepEqual(await boots(), ['boot']);
    const vol = await d().api('GET', `/volumes/${project}_appdata`);
    assert.equal(vol.status, 200, vol.text);
    assert.equal(vol.json.Labels['com.docker.compose.project'], project);
  });

  test('restart: the service runs again, its volume kept, and its name still resolves', async () => {
    const [before] = await containers('store');
    const started = (await d().api('GET', `/containers/${before.Id}/json`)).json.State.StartedAt;
    await composeOk(['restart', '--timeout', '1', 'store', 'web']);
    const after = (await d().api('GET', `/containers/${before.Id}/json`)).json;
    assert.equal(after.State.Running, true);
    assert.notEqual(after.State.StartedAt, started);
    assert.deepEqual(await boots(), ['boot', 'boot']);
    // web restarted too (httpd back after its 3 s sleep): the client finds it by name again
    const [web] = await containers('web');
    await d().waitInspect(web.Id, (c) => c.State.Health?.Status === 'healthy', 60_000);
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), PAGE);
  });

  test('up --scale web=2: two web containers, both published, the name resolves to both', async () => {
    await composeOk(['up', '-d', '--scale', 'web=2']);
    const webs = await containers('web');
    assert.equal(webs.length, 2);
    const ports = [await hostPort('web', 1), await hostPort('web', 2)];
    assert.notEqual(ports[0], ports[1]);
    for (const w of webs) await d().waitInspect(w.Id, (c) => c.State.Health?.Status === 'healthy', 60_000);
    for (const p of ports) assert.equal((await httpGet(`http://127.0.0.1:${p}/index.html`)).body, `${PAGE}\n`);
    const addrs = webs.map((w) => w.NetworkSettings.Networks[`${project}_appnet`].IPAddress).sort();
    const looked = await composeOk(['exec', '-T', 'client', 'nslookup', 'web']);
    for (const a of addrs) assert.ok(looked.includes(a), `nslookup web from client: ${looked} (want ${addrs.join(', ')})`);
    await composeOk(['up', '-d', '--scale', 'web=1']);
    assert.equal((await containers('web')).length, 1);
  });

  test('stop, start, ps, and run --rm: a one-off container waits for web and reaches it', async () => {
    await composeOk(['stop', '--timeout', '1', 'web']);
    const [web] = await containers('web');
    assert.equal(web.State, 'exited');
    assert.match(await composeOk(['ps', 'web']), /Exit \d+/);
    await composeOk(['start', 'web']);
    // run starts nothing already up, and waits for web's healthcheck (depends_on) before the one-off runs
    const out = await composeOk(['run', '--rm', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']);
    assert.equal(out, PAGE);
    const all = await containers();
    assert.deepEqual(all.map((c: any) => c.Labels['com.docker.compose.service']).sort(), ['client', 'store', 'web'], 'the one-off container was removed');
    assert.equal((await containers('web'))[0].State, 'running');
  });

  test('down keeps the named volume; up again finds its data', async () => {
    await composeOk(['down', '--timeout', '1']);
    assert.deepEqual(await containers(), []);
    const nets = await d().api('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ name: [`${project}_appnet`] }))}`);
    assert.deepEqual(nets.json, []);
    assert.equal((await d().api('GET', `/volumes/${project}_appdata`)).status, 200);
    await composeOk(['up', '-d']);
    assert.deepEqual(await boots(), ['boot', 'boot', 'boot']);
  });

  test('a changed environment recreates the service: new container, same volume, the app still works', async () => {
    const [old] = await containers('store');
    await writeFile(join(dir, 'docker-compose.yml'), COMPOSE_FILE.replace('    volumes: ["appdata:/data"]\n', '    volumes: ["appdata:/data"]\n    environment: { MARK: "2" }\n'));
    // Recreating reads the image's ContainerConfig, which moby 28 (and berth) give only to API
    // < 1.45; compose 1.29 otherwise negotiates 1.50 from /version and fails with KeyError:
    // 'ContainerConfig', against Docker 28 as against berth. COMPOSE_API_VERSION is the fix.
    await composeOk(['up', '-d', '--timeout', '1'], { COMPOSE_API_VERSION: '1.44' });
    const [store] = await containers('store');
    assert.notEqual(store.Id, old.Id, 'store was not recreated');
    assert.ok((await d().api('GET', `/containers/${store.Id}/json`)).json.Config.Env.includes('MARK=2'));
    assert.deepEqual(await boots(), ['boot', 'boot', 'boot', 'boot']);
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), PAGE);
    assert.match(await composeOk(['exec', '-T', 'client', 'nslookup', 'store']), new RegExp(store.NetworkSettings.Networks[`${project}_appnet`].IPAddress.replace(/\./g, '\\.')));
  });

  test('down -v leaves no container, network or volume of the project', async () => {
    await composeOk(['down', '-v', '--timeout', '1']);
    assert.deepEqual(await containers(), []);
    const nets = await d().api('GET', '/networks');
    assert.equal(nets.status, 200, nets.text);
    assert.deepEqual(nets.json.map((n: any) => n.Name).filter((n: string) => n.startsWith(project)), []);
    const vols = await d().api('GET', '/volumes');
    assert.equal(vols.status, 200, vols.text);
    assert.deepEqual((vols.json.Volumes ?? []).map((v: any) => v.Name).filter((n: string) => n.startsWith(project)), []);
  });
});
