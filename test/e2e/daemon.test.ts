// The daemon's own life: the data-root lock, SIGTERM and SIGKILL with containers running,
// restart reconciliation, and /events.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { BERTH_BIN, runCommand, startDaemon, type Daemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Collect JSON messages from an events stream until `until` says stop or timeoutMs passes. */
function collectEvents(res: IncomingMessage, until: (msgs: any[]) => boolean, timeoutMs = 15_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const msgs: any[] = [];
    let buf = '';
    const timer = setTimeout(() => {
      res.destroy();
      reject(new Error(`events: condition not met in ${timeoutMs} ms; got ${JSON.stringify(msgs.map((m) => `${m.Type}/${m.Action}`))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      res.destroy();
      resolve(msgs);
    };
    res.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') msgs.push(JSON.parse(line));
      }
      if (until(msgs)) finish();
    });
    res.on('end', () => {
      clearTimeout(timer);
      resolve(msgs);
    });
    res.on('error', () => undefined);
  });
}

const filters = (f: Record<string, string[]>) => encodeURIComponent(JSON.stringify(f));

describe('daemon', () => {
  let d: Daemon;
  let made: string[] = [];
  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
  });
  afterEach(async () => {
    if (!d.running) await d.start();
    for (const n of made) await d.api('DELETE', `/containers/${n}?force=1`);
    made = [];
  });
  after(async () => {
    await d?.cleanup();
  });

  test('a second daemon on the same data-root refuses to start with a clear message', async () => {
    const r = await runCommand(
      process.execPath,
      [BERTH_BIN, 'daemon', '-H', `unix://${join(d.base, 's2.sock')}`, '--data-root', d.dataRoot, '--exec-root', join(d.base, 'e2')],
      { timeoutMs: 15_000 },
    );
    assert.notEqual(r.code, 0, 'the second daemon must exit');
    assert.ok(!r.stderr.includes('[harness: killed'), 'it exited on its own');
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(d.dataRoot.replace(/[/.]/g, '\\$&')));
    assert.match(out, /another berth daemon|already in use|already using/i);
    assert.equal((await d.api('GET', '/_ping')).status, 200, 'the first daemon is unaffected');
  });

  test('SIGTERM stops the daemon but leaves containers running; a restarted daemon shows them running', async () => {
    const n = 'survivor';
    made.push(n);
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    const pid = (await d.api('GET', `/containers/${n}/json`)).json.State.Pid;
    assert.ok(pid > 0);
    await d.stop('SIGTERM');
    assert.equal(d.running, false);
    assert.ok(pidAlive(pid), 'the container process outlived the daemon');
    await d.start();
    const c = (await d.api('GET', `/containers/${n}/json`)).json;
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Pid, pid);
    assert.match(await d.dockerOk(['ps', '--format', '{{.Names}} {{.Status}}']), new RegExp(`^${n} Up `));
    // and it is still fully controllable
    await d.dockerOk(['stop', '-t', '0', n]);
    const stopped = await d.waitInspect(n, (x) => x.State.Status === 'exited');
    assert.equal(stopped.State.ExitCode, 137);
    assert.equal(pidAlive(pid), false);
  });

  test('SIGKILL of the daemon while a container runs: after restart it shows the real exit code', async () => {
    const n = 'orphan';
    made.push(n);
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'sleep 2; exit 7']);
    await d.stop('SIGKILL');
    await sleep(3000); // the container exits while no daemon watches
    await d.start();
    const c = await d.waitInspect(n, (x) => x.State.Status !== 'running', 5000);
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 7);
    assert.equal(c.State.Running, false);
    assert.notEqual(c.State.FinishedAt, '0001-01-01T00:00:00Z');
    assert.equal(await d.dockerOk(['wait', n]), '7');
    // it can be started again
    await d.dockerOk(['start', n]);
    assert.equal(await d.dockerOk(['wait', n]), '7');
  });

  test('SIGKILL of the daemon while a container keeps running: after restart it is still running', async () => {
    const n = 'orphan2';
    made.push(n);
    await d.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    await d.stop('SIGKILL');
    await d.start();
    const c = (await d.api('GET', `/containers/${n}/json`)).json;
    assert.equal(c.State.Status, 'running');
    const r = await d.docker(['rm', '-f', n]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('/events streams create, start, die, destroy for a container', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const res = await d.stream('GET', `/events?filters=${filters({ type: ['container'] })}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    const got = collectEvents(res, (m) => m.some((e) => e.Action === 'destroy'));
    const run = await d.docker(['run', '--rm', '--name', 'evented', '--label', 'k=v', 'busybox', 'sh', '-c', 'exit 4']);
    assert.equal(run.code, 4);
    const msgs = await got;
    const actions = msgs.map((e) => e.Action).filter((a) => ['create', 'start', 'die', 'destroy'].includes(a));
    assert.deepEqual(actions, ['create', 'start', 'die', 'destroy']);
    for (const e of msgs) {
      assert.equal(e.Type, 'container');
      assert.match(e.Actor.ID, /^[0-9a-f]{64}$/);
      assert.equal(e.Actor.Attributes.name, 'evented');
      assert.equal(e.Actor.Attributes.image, 'busybox');
      assert.equal(e.Actor.Attributes.k, 'v', 'labels are event attributes');
      assert.equal(e.scope, 'local');
      assert.ok(e.time >= since);
      assert.ok(e.timeNano >= e.time * 1e9);
    }
    const die = msgs.find((e) => e.Action === 'die');
    assert.equal(die.Actor.Attributes.exitCode, '4');

    // since/until replay the past and then end the stream
    const until = Math.floor(Date.now() / 1000) + 1;
    const past = await d.stream('GET', `/events?since=${since}&until=${until}&filters=${filters({ container: ['evented'] })}`);
    const replay = await collectEvents(past, () => false, 5000);
    assert.deepEqual(
      replay.map((e) => e.Action).filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)),
      ['create', 'start', 'die', 'destroy'],
    );
    const onlyDie = await d.stream('GET', `/events?since=${since}&until=${until}&filters=${filters({ event: ['die'] })}`);
    const dies = await collectEvents(onlyDie, () => false, 5000);
    assert.ok(dies.length >= 1);
    assert.ok(dies.every((e) => e.Action === 'die'));
  });

  test('/events with filters excludes others, and image events carry the image name', async () => {
    const res = await d.stream('GET', `/events?filters=${filters({ type: ['image'], event: ['tag', 'untag'] })}`);
    const got = collectEvents(res, (m) => m.some((e) => e.Action === 'untag'));
    await d.dockerOk(['run', '--rm', 'busybox', 'true']); // container events: filtered out
    await d.dockerOk(['tag', 'busybox', 'evtag:1']);
    await d.dockerOk(['rmi', 'evtag:1']);
    const msgs = await got;
    assert.deepEqual(
      msgs.map((e) => `${e.Type}/${e.Action}`),
      ['image/tag', 'image/untag'],
    );
    assert.equal(msgs[0].Actor.Attributes.name, 'evtag:1');
  });

  test('docker events --since/--until with the CLI', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await d.dockerOk(['run', '--rm', '--name', 'cliev', 'busybox', 'true']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const out = await d.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'container=cliev', '--format', '{{.Action}}'], {
      timeoutMs: 10_000,
    });
    const actions = out.split('\n').filter((a) => ['create', 'start', 'die', 'destroy'].includes(a));
    assert.deepEqual(actions, ['create', 'start', 'die', 'destroy']);
  });

  test('the daemon is still up after all this', async () => {
    assert.equal((await d.api('GET', '/_ping')).status, 200);
    assert.equal(await d.dockerOk(['version', '--format', '{{.Server.APIVersion}}']), '1.50');
  });
});
