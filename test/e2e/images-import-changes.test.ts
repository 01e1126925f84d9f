// docker import --change (issue 10, item 2): each instruction moby's BuildFromConfig allows for
// import and commit, with the config dockerd 20.10 made of the same changes; the others refused
// with its words.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, prepareFixtures, type Daemon } from './harness.js';

describe('docker import --change', () => {
  const f = daemonForFile();
  let d: Daemon;
  let rootfs: string;
  before(async () => {
    d = f.daemon();
    rootfs = (await prepareFixtures()).rootfs;
  });

  const importWith = (tag: string, changes: string[]) => d.docker(['import', ...changes.flatMap((c) => ['-c', c]), rootfs, tag]);
  const config = async (tag: string) => JSON.parse(await d.dockerOk(['image', 'inspect', '-f', '{{json .Config}}', tag]));

  test('every allowed instruction, as dockerd applies it', async () => {
    const r = await importWith('imp:1', [
      'CMD ["/bin/sh","-c","echo hi"]',
      'ENTRYPOINT /bin/sh -c',
      'ENV A=1 B="two words"',
      'ENV C 3',
      'EXPOSE 80 53/udp 8080/TCP',
      'LABEL a=b "c d"=e',
      'ONBUILD RUN echo x',
      'USER 10:20',
      'VOLUME ["/v1", "/v2"]',
      'VOLUME /v3 /v4',
      'WORKDIR rel',
      'WORKDIR /abs',
      'WORKDIR sub',
      'HEALTHCHECK --interval=5s --retries=2 CMD ["true"]',
    ]);
    assert.equal(r.code, 0, r.stderr);
    // dockerd 20.10's answer for the same import
    const want = {
      User: '10:20',
      ExposedPorts: { '53/udp': {}, '80/tcp': {}, '8080/tcp': {} },
      Env: ['A=1', 'B=two words', 'C=3'],
      Entrypoint: ['/bin/sh', '-c', '/bin/sh -c'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Volumes: { '/v1': {}, '/v2': {}, '/v3': {}, '/v4': {} },
      WorkingDir: '/abs/sub',
      Labels: { a: 'b', 'c d': 'e' },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 5000000000, Retries: 2 },
      OnBuild: ['RUN echo x'],
    };
    const got = await config('imp:1');
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k);
  });

  test('variables expand from the config, ENTRYPOINT [] clears, a relative WORKDIR starts at /', async () => {
    assert.equal((await importWith('imp:2', ['ENV A=$HOME/x', 'WORKDIR /w$A', 'ENTRYPOINT []', 'CMD echo "a  b"'])).code, 0);
    const got = await config('imp:2');
    assert.deepEqual(got.Env, ['A=/x']);
    assert.equal(got.WorkingDir, '/w/x');
    assert.equal(got.Entrypoint, undefined, 'dockerd leaves it out');
    assert.deepEqual(got.Cmd, ['/bin/sh', '-c', 'echo "a  b"']);
    assert.equal((await importWith('imp:3', ['WORKDIR a'])).code, 0);
    assert.equal((await config('imp:3')).WorkingDir, '/a');
    assert.equal((await config('imp:2')).Labels, undefined);
  });

  test("instructions import does not allow, and malformed ones, are refused with moby's words", async () => {
    for (const [change, msg] of [
      ['RUN true', 'run is not a valid change command'],
      ['ADD a /b', 'add is not a valid change command'],
      ['COPY a b', 'copy is not a valid change command'],
      ['FROM x', 'from is not a valid change command'],
      ['ARG a=1', 'arg is not a valid change command'],
      ['SHELL ["/bin/bash"]', 'shell is not a valid change command'],
      ['MAINTAINER me', 'maintainer is not a valid change command'],
      ['STOPSIGNAL SIGKILL', 'stopsignal is not a valid change command'],
      ['bogus x', 'bogus is not a valid change command'],
      ['ENV', 'ENV requires at least one argument'],
      ['USER', 'USER requires exactly one argument'],
      ['LABEL x', 'LABEL must have two arguments'],
    ]) {
      const r = await importWith('imp:bad', [change]);
      assert.equal(r.code, 1, change);
      assert.equal(r.stderr.trim(), `Error response from daemon: ${msg}`, change);
    }
    assert.equal((await d.api('GET', '/images/imp:bad/json')).status, 404, 'nothing stored');
  });
});
