// The berth CLI's image verbs against a real daemon: save (-o through a temp file renamed into
// place, or to stdout), load (-i or stdin, quiet off a terminal), and on a terminal (tmux) the
// byte counts they draw.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH_BIN, runCommand, startDaemon, type Daemon } from './harness.js';
import { Tmux } from './tmux.js';

const run = promisify(execFile);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('berth save and load', () => {
  let d: Daemon;
  let dir: string;
  let busyboxId: string;
  const berth = (args: string[], input?: Buffer) => runCommand(process.execPath, [BERTH_BIN, '-H', `unix://${d.socket}`, ...args], { input, timeoutMs: 60_000 });
  /** berth through sh, for redirections. */
  const berthSh = (line: string) => runCommand('sh', ['-c', `${quote(process.execPath)} ${quote(BERTH_BIN)} -H ${quote(`unix://${d.socket}`)} ${line}`], { timeoutMs: 60_000 });
  const tarNames = async (file: string) => (await run('tar', ['-tf', file])).stdout.trim().split('\n');

  before(async () => {
    d = await startDaemon();
    busyboxId = (await d.ensureBusybox()).imageId;
    dir = await mkdtemp('/tmp/bt-clisave-');
  });
  after(async () => {
    await d?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('berth save -o writes the archive through a temp file and prints nothing off a terminal', async () => {
    const out = join(dir, 'busybox.tar');
    const r = await berth(['save', '-o', out, 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const names = await tarNames(out);
    for (const n of ['manifest.json', 'index.json', 'oci-layout', `blobs/sha256/${busyboxId.slice(7)}`]) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    assert.deepEqual((await readdir(dir)).sort(), ['busybox.tar']);
  });

  test('berth save to stdout gives the same archive as -o, and refuses a terminal', async () => {
    const viaO = join(dir, 'o.tar');
    const viaStdout = join(dir, 'stdout.tar');
    assert.equal((await berth(['save', '-o', viaO, 'busybox:latest'])).code, 0);
    const r = await berthSh(`save busybox:latest > ${quote(viaStdout)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(viaStdout)).size, (await stat(viaO)).size);
    assert.deepEqual(await tarNames(viaStdout), await tarNames(viaO));
  });

  test('berth save failures: a missing image, a missing directory, no name; no file left behind', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const missing = await berth(['save', '-o', join(sub, 'x.tar'), 'nosuchimage:latest']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error response from daemon: reference does not exist\n');
    assert.deepEqual(await readdir(sub), []);
    const noDir = await berth(['save', '-o', join(sub, 'nodir', 'x.tar'), 'busybox']);
    assert.equal(noDir.code, 1);
    assert.equal(noDir.stderr, `failed to save image: invalid output path: directory ${JSON.stringify(join(sub, 'nodir'))} does not exist\n`);
    const isDir = await berth(['save', '-o', sub, 'busybox']);
    assert.equal(isDir.stderr, `failed to save image: invalid output path: ${JSON.stringify(sub)} is a directory\n`);
    const none = await berth(['save']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /"berth save" requires at least 1 argument/);
  });

  test('berth load -i and from stdin bring a removed image back under its name', async () => {
    const file = join(dir, 'load.tar');
    assert.equal((await berth(['save', '-o', file, 'busybox'])).code, 0);
    await d.dockerOk(['rmi', 'busybox']);
    const r = await berth(['load', '-i', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
    assert.equal((await d.api('GET', '/images/busybox/json')).json.Id, busyboxId);

    await d.dockerOk(['rmi', 'busybox']);
    const s = await berthSh(`load < ${quote(file)}`);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'Loaded image: busybox:latest\n');
    assert.equal((await d.api('GET', '/images/busybox/json')).json.Id, busyboxId);

    const missing = await berth(['load', '-i', join(dir, 'nosuch.tar')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `open ${join(dir, 'nosuch.tar')}: no such file or directory\n`);
    const bad = await berth(['load'], Buffer.from('not a tar archive at all'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: |invalid|archive/);
  });

  test('on a terminal, save -o counts the bytes written and load the bytes sent, then the names', async () => {
    const tmux = new Tmux(d);
    try {
      const file = join(dir, 'tty.tar');
      const size = await (async () => {
        const p = await tmux.runProgram([process.execPath, BERTH_BIN, 'save', '-o', file, 'busybox']);
        await tmux.waitFor(p, /EXITED=0/);
        const screen = await tmux.screen(p);
        assert.match(screen, /^Saving busybox +\d+(\.\d+)?[kM]B$/m);
        return (await stat(file)).size;
      })();
      const total = size >= 1e6 ? `${(size / 1e6).toPrecision(4).replace(/\.?0+$/, '')}MB` : `${(size / 1e3).toPrecision(4).replace(/\.?0+$/, '')}kB`;
      const p = await tmux.runProgram([process.execPath, BERTH_BIN, 'load', '-i', file], { width: 140, height: 30 });
      await tmux.waitFor(p, /EXITED=0/);
      const screen = await tmux.screen(p);
      // the bar at 100%: 50 '=' then '>' (jsonmessage's bar), the counts against the file's size
      assert.match(screen, new RegExp(`^Sending archive \\[={50}>\\] +${total.replace('.', '\\.')}/${total.replace('.', '\\.')}$`, 'm'));
      assert.match(screen, /^Loaded image: busybox:latest$/m);
    } finally {
      await tmux.kill();
    }
  });
});
