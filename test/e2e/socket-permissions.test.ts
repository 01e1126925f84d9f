// Review §15: who can reach the API socket and the data-root. The daemon runs with its socket in
// its exec-root (the default layout, /run/berth/berth.sock in /run/berth) and a numeric -G group.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { Daemon, recordRoot, runCommand } from './harness.js';

const GROUP = 4242;

/** GET /_ping over the socket as an unprivileged user in group `gid`: its answer, or the error code. */
async function pingAs(socket: string, gid: number): Promise<string> {
  const script = `require('http').get({ socketPath: ${JSON.stringify(socket)}, path: '/_ping' }, (r) => { r.setEncoding('utf8'); r.on('data', (d) => process.stdout.write(d)); }).on('error', (e) => process.stdout.write(e.code));`;
  const r = await runCommand('setpriv', ['--reuid', '65534', '--regid', String(gid), '--clear-groups', process.execPath, '-e', script]);
  return r.stdout.trim();
}

describe('socket and data-root permissions', () => {
  let d: Daemon;
  let base: string;
  before(async () => {
    base = await mkdtemp('/tmp/bt-');
    await recordRoot(base);
    // The socket (base/s.sock) sits in the exec-root, as /run/berth/berth.sock does by default.
    d = new Daemon(base, { args: ['--exec-root', base, '-G', String(GROUP)] });
    await mkdir(d.dockerConfig, { recursive: true });
    await d.start();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('the socket is 0660 with the -G group, bound elsewhere and renamed into place', async () => {
    const st = await stat(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, GROUP);
  });

  test('a member of the group reaches the socket in the exec-root, without listing the exec-root', async () => {
    const dir = await stat(base);
    assert.equal(dir.mode & 0o777, 0o710);
    assert.equal(dir.gid, GROUP);
    assert.equal(await pingAs(d.socket, GROUP), 'OK');
    assert.equal(await pingAs(d.socket, GROUP + 1), 'EACCES');
    const ls = await runCommand('setpriv', ['--reuid', '65534', '--regid', String(GROUP), '--clear-groups', 'ls', base]);
    assert.notEqual(ls.code, 0, 'the exec-root is not listable');
  });

  test('the data-root is 0710 at every start, even when it exists with another mode', async () => {
    assert.equal((await stat(d.dataRoot)).mode & 0o777, 0o710);
    await d.stop();
    await chmod(d.dataRoot, 0o755);
    await d.start();
    assert.equal((await stat(d.dataRoot)).mode & 0o777, 0o710);
  });
});
