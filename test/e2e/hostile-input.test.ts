// Input meant to hurt the daemon, through the real CLI and raw HTTP (issue 7): filters that make a
// backtracking matcher run for minutes (review §8), NUL bytes that Node refuses with a host path in
// its message (fuzzing), `events --until` past setTimeout's range (§13), an image's bogus
// StopSignal (§16). Each time the daemon must answer, and keep answering everyone else.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { daemonForFile, rawRequest } from './harness.js';
import { buildDockerArchive } from '../fixtures/image-archive.js';

describe('hostile input', () => {
  const f = daemonForFile();
  const { name } = f;

  test('docker ps --filter name=(a+)+b answers, and the daemon with it', { timeout: 60_000 }, async () => {
    const d = f.daemon();
    const c = name('a'.repeat(30));
    await d.dockerOk(['create', '--name', c, 'busybox', 'true']);
    // A backtracking engine spends minutes on this one name: the test's timeout fails it.
    assert.equal(await d.dockerOk(['ps', '-a', '--filter', 'name=(a+)+b', '--format', '{{.Names}}']), '');
    assert.equal(await d.dockerOk(['ps', '-a', '--filter', 'name=^a+', '--format', '{{.Names}}']), c);
    assert.equal((await d.api('GET', '/_ping')).text, 'OK');
  });

  test('docker images --filter reference=**********X answers, and a bad pattern is a 400', { timeout: 60_000 }, async () => {
    const d = f.daemon();
    const long = `${name('busybox')}-${'a'.repeat(60)}:${'b'.repeat(60)}`;
    await d.dockerOk(['tag', 'busybox', long]);
    try {
      assert.equal(await d.dockerOk(['images', '--filter', 'reference=**********X', '--format', '{{.Repository}}']), '');
      const found = await d.dockerOk(['images', '--filter', `reference=${long.slice(0, 20)}*`, '--format', '{{.Repository}}:{{.Tag}}']);
      assert.equal(found, long);
      const bad = await d.api('GET', `/images/json?filters=${encodeURIComponent('{"reference":["busy[box"]}')}`);
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.json, { message: 'syntax error in pattern' });
      assert.equal((await d.api('GET', '/_ping')).text, 'OK');
    } finally {
      await d.docker(['rmi', long]);
    }
  });

  test('a NUL byte in a path is a 400 that names no host path, for PUT, HEAD and GET archive', async () => {
    const d = f.daemon();
    const c = name('nul');
    await d.dockerOk(['create', '--name', c, 'busybox', 'true']);
    const tar = Buffer.alloc(1024);
    for (const [method, body] of [['PUT', tar], ['HEAD', undefined], ['GET', undefined]] as const) {
      for (const path of ['%00', '/tmp/a%00b']) {
        const r = await d.api(method, `/containers/${c}/archive?path=${path}`, body, { headers: body ? { 'content-type': 'application/x-tar' } : {} });
        assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
        if (method !== 'HEAD') assert.deepEqual(r.json, { message: 'invalid query parameter path: contains a NUL byte' });
        for (const root of [d.dataRoot, d.execRoot, d.base]) assert.ok(!r.text.includes(root), r.text);
      }
    }
    const create = await d.api('POST', `/containers/create?name=${name('nul2')}`, { Image: 'busybox', Cmd: ['echo', 'a\u0000b'] });
    assert.equal(create.status, 400);
    assert.deepEqual(create.json, { message: 'invalid body.Cmd[1]: contains a NUL byte' });
  });

  test('GET /events?until= beyond 24.8 days stays open and streams', { timeout: 60_000 }, async () => {
    const d = f.daemon();
    const until = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
    const filters = encodeURIComponent('{"event":["create"]}');
    // The daemon subscribes before it sends the headers: once they are here, no event is missed.
    const res = await rawRequest(d.socket, 'GET', `/events?until=${until}&filters=${filters}`, { timeoutMs: 60_000 });
    assert.equal(res.statusCode, 200);
    const c = name('until');
    let out = '';
    res.setEncoding('utf8');
    const ended = new Promise<string>((resolve) => res.once('end', () => resolve('ended')));
    const seen = new Promise<string>((resolve) =>
      res.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes(`"name":"${c}"`)) resolve('seen');
      }),
    );
    try {
      await d.dockerOk(['create', '--name', c, 'busybox', 'true']);
      // Before the fix the stream ended at once (setTimeout clamps an overlong delay to 1 ms).
      assert.equal(await Promise.race([seen, ended]), 'seen');
    } finally {
      res.destroy();
    }
  });

  test("an image's bogus StopSignal falls back to SIGTERM at stop, as moby does", { timeout: 60_000 }, async () => {
    const d = f.daemon();
    const fx = await d.ensureBusybox();
    const image = `${name('bogus-stop')}:1`;
    // docker import and commit refuse STOPSIGNAL changes (moby's list), so the image comes from an archive
    const { archive } = await buildDockerArchive(await readFile(fx.rootfs), [image], { config: { StopSignal: 'SIGBOGUS' } });
    await d.dockerOk(['load'], { input: archive });
    const c = name('bogus-stop');
    try {
      await d.dockerOk(['run', '-d', '--name', c, image, 'sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done']);
      await d.dockerOk(['stop', '-t', '30', c]);
      const state = await f.inspect(c);
      assert.equal(state.State.ExitCode, 42, 'the process got SIGTERM');
    } finally {
      await d.docker(['rm', '-f', c]);
      await d.docker(['rmi', image]);
    }
  });
});
