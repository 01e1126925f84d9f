// Published ports across a daemon SIGKILL (issue 9 items 4 and 6): the forward keeps working
// while the daemon is down (the rules live in the kernel), the restarted daemon shows the same
// ports, holds them again, and tears them down when the container exits, also for an exit
// that happened while it was down.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { daemonForFile, type Daemon } from './harness.js';
import { freePorts, hostCanBind, httpdCmd, httpUntil, natRulesFor, until } from './ports-tools.js';

describe('published ports across a daemon restart', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('SIGKILL of the daemon: forwards stay, are shown and held again, and go with the container', { timeout: 180_000 }, async () => {
    const keep = f.name('rs-keep');
    const gone = f.name('rs-gone');
    const [k, g] = [await freePorts(), await freePorts()];
    await d().dockerOk(['run', '-d', '--name', keep, '-p', `${k}:80`, 'busybox', ...httpdCmd('kept')]);
    // this one exits while the daemon is down, when the test writes /tmp/stop into it
    const serveUntilStop = 'mkdir -p /www && echo gone > /www/index.html && httpd -p 80 -h /www && while [ ! -f /tmp/stop ]; do sleep 0.1; done';
    await d().dockerOk(['run', '-d', '--name', gone, '-p', `${g}:80`, 'busybox', 'sh', '-c', serveUntilStop]);
    await httpUntil('127.0.0.1', k);
    await httpUntil('127.0.0.1', g);
    const gonePid = (await f.inspect(gone)).State.Pid as number;

    await d().stop('SIGKILL');
    await writeFile(`/proc/${gonePid}/root/tmp/stop`, '');
    assert.equal((await httpUntil('127.0.0.1', k)).trim(), 'kept', 'the forward works while the daemon is down');
    await until(`${gone} exits while the daemon is down`, async () => !existsSync(`/proc/${gonePid}`));
    await d().start();

    assert.equal(await d().dockerOk(['port', keep]), `80/tcp -> 0.0.0.0:${k}`);
    assert.equal((await httpUntil('127.0.0.1', k)).trim(), 'kept');
    assert.equal(await hostCanBind(k), false, 'held again by the new daemon');
    // the exit found at start tore its forward down
    assert.equal((await f.inspect(gone)).State.Status, 'exited');
    assert.deepEqual(await natRulesFor(g), []);
    assert.equal(await hostCanBind(g), true);

    await d().dockerOk(['stop', '-t', '1', keep]);
    assert.deepEqual(await natRulesFor(k), []);
    assert.equal(await hostCanBind(k), true);
  });
});
