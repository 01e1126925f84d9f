// Issue 11 §5: a client of the socket cannot make the daemon read or write a host file through any
// API path that names one, beyond what Docker grants by design (bind mounts, volume driver options
// `o=bind`, --privileged, --log-opt of drivers that write elsewhere: the docker group is
// root-equivalent). A host dir holds a secret: every route below is aimed at it through `..`,
// absolute paths and symlinks, and no answer may hold the secret, nor may anything be written there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonForFile, runCommand, type ApiResult } from './harness.js';
import { tarOf } from '../fixtures/tar-of.js';

const SECRET = `host-secret-${process.pid}-c0ffee`;

describe('no API path reads or writes host files', () => {
  const f = daemonForFile();
  const { name } = f;
  let hostDir: string;
  let secretFile: string;
  const up = '../../../../../../../..';

  before(async () => {
    hostDir = await mkdtemp('/tmp/bt-access-host-');
    secretFile = join(hostDir, 'secret');
    // in conmon's log format, so a log reader that followed a link to it would show it
    await writeFile(secretFile, `2026-11-29T00:00:00.000000000Z stdout F ${SECRET}\n`);
  });
  after(async () => {
    assert.deepEqual(await readdir(hostDir), ['secret'], 'nothing written into the host dir');
    assert.match(await readFile(secretFile, 'utf8'), new RegExp(SECRET));
    await rm(hostDir, { recursive: true, force: true });
  });

  function noSecret(r: ApiResult | string, what: string): void {
    const text = typeof r === 'string' ? r : `${r.text} ${JSON.stringify(r.headers)}`;
    assert.ok(!text.includes(SECRET), `${what} shows the host secret: ${text.slice(0, 500)}`);
  }

  /** A running container with links at the host dir: absolute, relative climbing out, and to the file. */
  async function linked(n: string): Promise<string> {
    const c = name(n);
    await f.daemon().dockerOk(['run', '-d', '--name', c, 'busybox', 'sh', '-c', `ln -s ${hostDir} /abs && ln -s ${up}${hostDir} /rel && ln -s ${secretFile} /file && mkdir /d && exec sleep 1000`]);
    await f.daemon().waitInspect(c, (j) => j.State.Running);
    for (let i = 0; i < 100; i++) {
      if ((await f.daemon().api('HEAD', `/containers/${c}/archive?path=/d`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return c;
  }

  test('archive GET and HEAD: `..`, absolute paths and links resolve inside the container', async () => {
    const d = f.daemon();
    const c = await linked('acc-get');
    for (const path of [`${up}${secretFile}`, secretFile, '/abs/secret', '/rel/secret', '/d/../../../abs/secret']) {
      for (const method of ['GET', 'HEAD']) {
        const r = await d.api(method, `/containers/${c}/archive?path=${encodeURIComponent(path)}`);
        assert.equal(r.status, 404, `${method} ${path}: ${r.status} ${r.text}`);
        noSecret(r, `${method} ${path}`);
      }
    }
    // a link itself (the last element is not followed, as moby's ResolvePath): a symlink entry,
    // never the bytes it leads to on the host
    for (const path of ['/abs', '/file', '/abs/', '/rel/.']) {
      const r = await d.api('GET', `/containers/${c}/archive?path=${path}`);
      noSecret(r, `GET ${path}`);
    }
  });

  test('archive PUT: through a link, into `..`, and with entries that climb: nothing lands on the host', async () => {
    const d = f.daemon();
    const c = await linked('acc-put');
    const planted = await tarOf([{ header: { name: 'planted' }, body: 'x' }]);
    for (const path of ['/abs', '/rel', `${up}${hostDir}`, hostDir]) {
      const r = await d.api('PUT', `/containers/${c}/archive?path=${encodeURIComponent(path)}`, planted, { headers: { 'content-type': 'application/x-tar' } });
      // the container has no such dir: moby's 404 (the links lead to the container's own hostDir)
      assert.equal(r.status, 404, `PUT ${path}: ${r.status} ${r.text}`);
    }
    const climbing = await tarOf([
      { header: { name: `${up}${hostDir}/planted` }, body: 'x' },
      { header: { name: 'abs/planted2' }, body: 'x' },
      { header: { name: 'lnk', type: 'symlink', linkname: hostDir } },
      { header: { name: 'lnk/planted3' }, body: 'x' },
    ]);
    const r = await d.api('PUT', `/containers/${c}/archive?path=/d`, climbing, { headers: { 'content-type': 'application/x-tar' } });
    noSecret(r, 'PUT climbing');
    assert.deepEqual(await readdir(hostDir), ['secret']);
  });

  test('export and diff of a container with links at the host: the links, never their targets', async () => {
    const d = f.daemon();
    const c = await linked('acc-export');
    const exp = await d.api('GET', `/containers/${c}/export`, undefined, { timeoutMs: 60_000 });
    assert.equal(exp.status, 200);
    noSecret(exp, 'export');
    assert.ok(exp.text.includes(hostDir), 'the link targets are in the tar as link names');
    const changes = await d.api('GET', `/containers/${c}/changes`);
    assert.equal(changes.status, 200);
    noSecret(changes, 'changes');
  });

  test('commit of a container with links at the host: the image holds the links, and its layer no host bytes', async () => {
    const d = f.daemon();
    const c = await linked('acc-commit');
    const repo = `${name('acc-commit-img')}:latest`;
    const r = await d.api('POST', `/commit?container=${c}&repo=${repo.split(':')[0]}&tag=latest`);
    assert.equal(r.status, 201, r.text);
    try {
      const saved = await d.api('GET', `/images/get?names=${encodeURIComponent(repo)}`, undefined, { timeoutMs: 60_000 });
      assert.equal(saved.status, 200);
      noSecret(saved, 'save of the committed image');
    } finally {
      await d.api('DELETE', `/images/${encodeURIComponent(repo)}?force=1`);
    }
    const bad = await d.api('POST', `/commit?container=${c}&repo=${encodeURIComponent(`${up}${hostDir}`)}`);
    assert.equal(bad.status, 400, bad.text);
  });

  test('logs: a log file swapped for a link to a host file is not followed; --log-opt path is refused', async () => {
    const d = f.daemon();
    const c = name('acc-logs');
    await d.dockerOk(['run', '--name', c, 'busybox', 'echo', 'container-output']);
    const { LogPath } = await f.inspect(c);
    assert.match(await d.dockerOk(['logs', c]), /container-output/);
    // only root on the host can do this (the log lives in the data-root); the daemon must still
    // not become a reader of whatever the path leads to
    await unlink(LogPath);
    await symlink(secretFile, LogPath);
    const r = await d.api('GET', `/containers/${c}/logs?stdout=1&stderr=1`);
    noSecret(r, 'logs through a link');
    // the stream has begun (moby's route too): the error comes in-band, on stderr
    assert.equal(r.status, 200);
    assert.match(r.text, /Error grabbing logs: the container's log file is a symbolic link: not read/);
    // a FIFO there would park a libuv worker in open() for good
    await unlink(LogPath);
    await runCommand('mkfifo', [LogPath]);
    const fifo = await d.api('GET', `/containers/${c}/logs?stdout=1&stderr=1`);
    assert.match(fifo.text, /Error grabbing logs: the container's log file is not a regular file: not read/);
    await unlink(LogPath);
    const opt = await d.docker(['create', '--log-opt', `path=${secretFile}`, 'busybox', 'true']);
    assert.notEqual(opt.code, 0);
    assert.match(opt.stderr, /unknown log opt 'path' for json-file log driver/);
  });

  test('build: a Dockerfile outside the context, a linked Dockerfile, COPY through links: refused or confined', async () => {
    const d = f.daemon();
    const build = (query: string, entries: Parameters<typeof tarOf>[0]) =>
      tarOf(entries).then((body) => d.api('POST', `/build?rm=1&forcerm=1&${query}`, body, { headers: { 'content-type': 'application/x-tar' }, timeoutMs: 120_000 }));
    const df = { header: { name: 'Dockerfile' }, body: 'FROM busybox\nCOPY . /ctx\n' };
    for (const dockerfile of [secretFile, `${up}${secretFile}`, '../secret']) {
      const r = await build(`dockerfile=${encodeURIComponent(dockerfile)}`, [df]);
      noSecret(r, `build dockerfile=${dockerfile}`);
      assert.ok(r.status !== 200 || /errorDetail/.test(r.text), `dockerfile=${dockerfile}: ${r.status} ${r.text}`);
    }
    const linkedDf = await build('', [{ header: { name: 'Dockerfile', type: 'symlink', linkname: secretFile } }]);
    noSecret(linkedDf, 'a Dockerfile linked to a host file');
    assert.ok(linkedDf.status !== 200 || /errorDetail/.test(linkedDf.text), linkedDf.text);

    const tag = name('acc-build');
    const copied = await build(`t=${tag}`, [
      { header: { name: 'Dockerfile' }, body: 'FROM busybox\nCOPY file abs /ctx/\nRUN cat /ctx/file /ctx/abs/secret 2>&1; true\n' },
      { header: { name: 'file', type: 'symlink', linkname: secretFile } },
      { header: { name: 'abs', type: 'symlink', linkname: hostDir } },
    ]);
    noSecret(copied, 'COPY of links to the host');
    const viaDir = await build('', [
      { header: { name: 'Dockerfile' }, body: 'FROM busybox\nCOPY abs/secret /x\n' },
      { header: { name: 'abs', type: 'symlink', linkname: hostDir } },
    ]);
    noSecret(viaDir, 'COPY abs/secret through a link to a host dir');
    assert.match(viaDir.text, /errorDetail/, viaDir.text);
    await d.api('DELETE', `/images/${tag}?force=1`);
  });

  test('images: load with member names that climb, save and import naming host paths', async () => {
    const d = f.daemon();
    const archive = await tarOf([
      { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: `${up}${secretFile}`, RepoTags: ['acc-load:latest'], Layers: [`${up}${secretFile}`] }]) },
    ]);
    const load = await d.api('POST', '/images/load?quiet=1', archive, { headers: { 'content-type': 'application/x-tar' } });
    noSecret(load, 'load');
    assert.ok(load.status !== 200 || /error/.test(load.text), load.text);
    const linkedArchive = await tarOf([
      { header: { name: 'manifest.json', type: 'symlink', linkname: secretFile } },
    ]);
    noSecret(await d.api('POST', '/images/load?quiet=1', linkedArchive, { headers: { 'content-type': 'application/x-tar' } }), 'load of a linked manifest');
    for (const names of [secretFile, `${up}${secretFile}`]) {
      const r = await d.api('GET', `/images/get?names=${encodeURIComponent(names)}`);
      assert.notEqual(r.status, 200, r.text);
      noSecret(r, `save ${names}`);
    }
    const imp = await d.api('POST', `/images/create?fromSrc=${encodeURIComponent(secretFile)}`);
    assert.notEqual(imp.status, 200);
    noSecret(imp, 'import fromSrc=<host path>');
    const pull = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${up}${secretFile}`)}`);
    assert.equal(pull.status, 400, pull.text);
  });

  test('volume, network and container names that climb are refused or stay names; no files appear on the host', async () => {
    const d = f.daemon();
    for (const n of [`${up}${hostDir}/v`, '../v', '..', '.']) {
      const r = await d.api('POST', '/volumes/create', { Name: n });
      assert.equal(r.status, 400, `volume ${n}: ${r.status} ${r.text}`);
    }
    for (const n of [`${up}${hostDir}/n`, '../n']) {
      const r = await d.api('POST', '/networks/create', { Name: n });
      if (r.status === 201) assert.equal((await d.api('DELETE', `/networks/${r.json.Id}`)).status, 204);
      else assert.equal(r.status, 400, r.text);
    }
    const c = await d.api('POST', `/containers/create?name=${encodeURIComponent(`${up}${hostDir}/c`)}`, { Image: 'busybox' });
    assert.equal(c.status, 400, c.text);
  });

  test('ids that climb: inspect, changes, export, logs, attach/ws, archive answer 404', async () => {
    const d = f.daemon();
    const id = encodeURIComponent(`${up}${hostDir}`);
    for (const [method, path] of [
      ['GET', `/containers/${id}/json`],
      ['GET', `/containers/${id}/changes`],
      ['GET', `/containers/${id}/export`],
      ['GET', `/containers/${id}/logs?stdout=1`],
      ['GET', `/containers/${id}/archive?path=/secret`],
      ['GET', `/containers/${id}/attach/ws?stream=1`],
      ['GET', `/volumes/${id}`],
      ['GET', `/networks/${id}`],
      ['GET', `/images/${id}/json`],
    ]) {
      const r = await d.api(method, path);
      // an image name that is no reference is moby's 400
      assert.equal(r.status, path.startsWith('/images/') ? 400 : 404, `${method} ${path}: ${r.status} ${r.text}`);
      noSecret(r, path);
    }
  });
});
