// The crash points test/faults drives, each with the operation that reaches it and what a retry
// after the restart must achieve. A scenario's setup runs on a daemon without the fault; its
// `op` runs on a daemon armed with BERTH_FAULT=<point>[:<n>] and is expected to kill it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOOP, build, idOf, rmIfThere, runDetached, sweep, type Ctx, type Scenario } from './scenario-kit.js';

export type { Ctx, Scenario } from './scenario-kit.js';

const BUILD2 = 'FROM busybox\nRUN echo built > /built\nRUN echo second > /second\n';

export const SCENARIOS: Scenario[] = [
  {
    point: 'create.before-row',
    ci: true,
    op: (c) => c.d.docker(['create', '--name', 'f-create1', 'busybox', 'true']),
    async retry(c) {
      assert.equal(await idOf(c, 'f-create1'), undefined, 'a create cut short before its row leaves no container');
      c.made(await c.d.dockerOk(['create', '--name', 'f-create1', 'busybox', 'true']));
      await c.d.dockerOk(['start', '-a', 'f-create1']);
      await c.d.dockerOk(['rm', 'f-create1']);
    },
  },
  {
    point: 'create.after-row',
    ci: true,
    op: (c) => c.d.docker(['create', '--name', 'f-create2', 'busybox', 'true']),
    async retry(c) {
      assert.ok(await idOf(c, 'f-create2'), 'a create whose row was written is there');
      await c.d.dockerOk(['start', '-a', 'f-create2']);
      await c.d.dockerOk(['rm', 'f-create2']);
    },
  },
  // the 2nd file of the volume's copy (CI), then the first and a deeper one
  ...sweep([2, 1, 4], true, () => ({
    point: 'copyup.after-file',
    op: (c) => c.d.docker(['create', '--name', 'f-copyup', '-v', 'f-copyup-vol:/etc', 'busybox', 'true']),
    async retry(c) {
      await rmIfThere(c, 'f-copyup');
      c.made(await c.d.dockerOk(['create', '--name', 'f-copyup', '-v', 'f-copyup-vol:/etc', 'busybox', 'true']));
      await c.d.dockerOk(['rm', 'f-copyup']);
      // the image's /etc, whole, in the volume: as a copy-up that was never interrupted made it
      c.made(await c.d.dockerOk(['create', '--name', 'f-copyup-ref', '-v', 'f-copyup-ref:/etc', 'busybox', 'true']));
      await c.d.dockerOk(['rm', 'f-copyup-ref']);
      const ls = (v: string) => c.d.dockerOk(['run', '--rm', '--network', 'none', '-v', `${v}:/v`, 'busybox', 'sh', '-c', 'cd /v && ls -lnR . | md5sum']);
      assert.equal(await ls('f-copyup-vol'), await ls('f-copyup-ref'));
      await c.d.dockerOk(['volume', 'rm', 'f-copyup-vol', 'f-copyup-ref']);
    },
  })),
  ...(['start.after-mount', 'start.after-task-create', 'start.after-task-start'] as const).map(
    (point, i): Scenario => ({
      point,
      ci: true,
      async setup(c) {
        c.made(await c.d.dockerOk(['create', '--name', `f-start${i}`, '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', LOOP]));
      },
      op: (c) => c.d.docker(['start', `f-start${i}`]),
      async retry(c) {
        await c.d.dockerOk(['start', `f-start${i}`]);
        const st = await c.d.waitInspect(`f-start${i}`, (j) => j.State.Running);
        assert.ok(st.State.Pid > 0);
        await c.d.dockerOk(['rm', '-f', `f-start${i}`]);
      },
    }),
  ),
  {
    point: 'stop.after-signal',
    ci: true,
    setup: (c) => runDetached(c, 'f-stop').then(() => undefined),
    op: (c) => c.d.docker(['stop', 'f-stop']),
    async retry(c) {
      // the TERM reached it while the daemon was down: its exit is recorded at the restart
      const st = await c.d.waitInspect('f-stop', (j) => !j.State.Running);
      assert.equal(st.State.ExitCode, 0);
      await c.d.dockerOk(['start', 'f-stop']);
      await c.d.dockerOk(['stop', 'f-stop']);
      await c.d.dockerOk(['rm', 'f-stop']);
    },
  },
  {
    point: 'exit.after-row',
    ci: true,
    setup: (c) => runDetached(c, 'f-exit').then(() => undefined),
    op: (c) => c.d.docker(['kill', '-s', 'TERM', 'f-exit']),
    async retry(c) {
      const st = await c.d.waitInspect('f-exit', (j) => !j.State.Running);
      assert.equal(st.State.ExitCode, 0);
      await c.d.dockerOk(['start', 'f-exit']);
      await c.d.dockerOk(['rm', '-f', 'f-exit']);
    },
  },
  ...(['rm.after-snapshot', 'rm.after-row'] as const).map(
    (point, i): Scenario => ({
      point,
      ci: true,
      async setup(c) {
        await runDetached(c, `f-rm${i}`);
      },
      op: (c) => c.d.docker(['rm', '-f', `f-rm${i}`]),
      async retry(c) {
        await rmIfThere(c, `f-rm${i}`);
        c.made(await c.d.dockerOk(['run', '-d', '--name', `f-rm${i}`, 'busybox', 'sh', '-c', LOOP]));
        await c.d.dockerOk(['rm', '-f', `f-rm${i}`]);
      },
    }),
  ),
  ...sweep([1, 2], true, (n) => ({
    point: 'exec.after-spawn',
    setup: (c) => runDetached(c, 'f-exec').then(() => undefined),
    // at n=2 an exec that ran to its end comes first
    op: async (c) => {
      if (n === 2) await c.d.dockerOk(['exec', 'f-exec', 'true']);
      return c.d.docker(['exec', 'f-exec', 'sleep', '1000']);
    },
    async retry(c) {
      assert.equal(await c.d.dockerOk(['exec', 'f-exec', 'echo', 'again']), 'again');
      // the cut-short exec's process is gone with the daemon that ran it
      const top = await c.d.dockerOk(['exec', 'f-exec', 'ps', '-o', 'args']);
      assert.ok(!top.includes('sleep 1000'), top);
      await c.d.dockerOk(['rm', '-f', 'f-exec']);
    },
  })),
  {
    point: 'network.after-row',
    ci: true,
    op: (c) => c.d.docker(['network', 'create', 'f-net1']),
    async retry(c) {
      const r = await c.d.api('GET', '/networks/f-net1');
      if (r.status === 404) await c.d.dockerOk(['network', 'create', 'f-net1']);
      await c.d.dockerOk(['run', '--rm', '--network', 'f-net1', 'busybox', 'true']);
      await c.d.dockerOk(['network', 'rm', 'f-net1']);
    },
  },
  ...(['connect.after-row', 'connect.after-setup'] as const).map(
    (point, i): Scenario => ({
      point,
      ci: true,
      async setup(c) {
        await c.d.dockerOk(['network', 'create', `f-net-c${i}`]);
        await runDetached(c, `f-conn${i}`);
      },
      op: (c) => c.d.docker(['network', 'connect', `f-net-c${i}`, `f-conn${i}`]),
      async retry(c) {
        const r = await c.d.docker(['network', 'connect', `f-net-c${i}`, `f-conn${i}`]);
        assert.ok(r.code === 0 || /already exists/.test(r.stderr), r.stderr);
        // connected for real: the address inspect shows is on an interface in the container
        const ip = (await c.d.waitInspect(`f-conn${i}`, () => true)).NetworkSettings.Networks[`f-net-c${i}`]?.IPAddress;
        assert.ok(ip, 'connected after the retry');
        const addrs = await c.d.dockerOk(['exec', `f-conn${i}`, 'ip', '-4', '-o', 'addr']);
        assert.ok(addrs.includes(`${ip}/`), `${ip} in\n${addrs}`);
        await c.d.dockerOk(['rm', '-f', `f-conn${i}`]);
        await c.d.dockerOk(['network', 'rm', `f-net-c${i}`]);
      },
    }),
  ),
  // the first rotation, and the second (the first one done by the armed daemon)
  ...sweep([1, 2], true, () => ({
    point: 'logs.after-shift',
    async setup(c) {
      await runDetached(c, 'f-logs', ['--log-opt', 'max-size=2k', '--log-opt', 'max-file=2'], ['sh', '-c', 'i=0; while true; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); sleep 0.01; done']);
    },
    // the rotation timer reaches the point by itself; the op only waits for it
    op: async () => ({ code: 0, stdout: '', stderr: '' }),
    async retry(c) {
      const last = async () => Number(/line-(\d+)-x*\s*$/.exec(await c.d.dockerOk(['logs', '--tail', '1', 'f-logs']))?.[1] ?? -1);
      // conmon writes into a fresh live file again (not on and on into the shifted one)
      const id = (await idOf(c, 'f-logs'))!;
      const live = join(c.d.dataRoot, 'containers', id, 'container.log');
      const until = Date.now() + 20_000;
      while (!existsSync(live)) {
        assert.ok(Date.now() < until, 'the live log file is back after the restart');
        await new Promise((r) => setTimeout(r, 100));
      }
      const a = await last();
      // new lines reach `docker logs` after the restart, and rotation goes on
      const deadline = Date.now() + 20_000;
      while ((await last()) <= a + 50) {
        assert.ok(Date.now() < deadline, `no new log lines after the restart (last ${a})`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await c.d.dockerOk(['rm', '-f', 'f-logs']);
    },
  })),
  {
    point: 'commit.frozen',
    ci: true,
    setup: (c) => runDetached(c, 'f-commit').then(() => undefined),
    op: (c) => c.d.docker(['commit', 'f-commit', 'f-commit-img']),
    async retry(c) {
      await c.d.waitInspect('f-commit', (j) => j.State.Running && !j.State.Paused);
      await c.d.dockerOk(['exec', 'f-commit', 'true']);
      await c.d.dockerOk(['commit', 'f-commit', 'f-commit-img']);
      await c.d.dockerOk(['rm', '-f', 'f-commit']);
      await c.d.dockerOk(['rmi', 'f-commit-img']);
    },
  },
  {
    point: 'image.before-row',
    ci: true,
    setup: (c) => runDetached(c, 'f-commit2').then(() => undefined),
    op: (c) => c.d.docker(['commit', 'f-commit2', 'f-commit2-img']),
    async retry(c) {
      await c.d.dockerOk(['commit', 'f-commit2', 'f-commit2-img']);
      await c.d.dockerOk(['rm', '-f', 'f-commit2']);
      await c.d.dockerOk(['rmi', 'f-commit2-img']);
    },
  },
  // after the first RUN step, and after the second (the first one's image committed)
  ...sweep([1, 2], true, () => ({
    point: 'build.after-run',
    op: (c) => build(c, 'f-build', BUILD2),
    async retry(c) {
      const r = await build(c, 'f-build', BUILD2);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await c.d.dockerOk(['run', '--rm', '--network', 'none', 'f-build', 'cat', '/built', '/second']), 'built\nsecond');
      await c.d.dockerOk(['rmi', 'f-build']);
    },
  })),
  {
    point: 'layer.before-row',
    ci: true,
    async setup(c) {
      // an image the daemon does not have, with a layer of its own over busybox's
      const ref = `${c.registry}/faults-pull:1`;
      const r = await build(c, ref, 'FROM busybox\nRUN echo pulled > /pulled\n');
      assert.equal(r.code, 0, r.stderr);
      await c.d.dockerOk(['push', ref]);
      await c.d.dockerOk(['rmi', ref]);
    },
    op: (c) => c.d.docker(['pull', `${c.registry}/faults-pull:1`]),
    async retry(c) {
      await c.d.dockerOk(['pull', `${c.registry}/faults-pull:1`]);
      assert.equal(await c.d.dockerOk(['run', '--rm', '--network', 'none', `${c.registry}/faults-pull:1`, 'cat', '/pulled']), 'pulled');
      await c.d.dockerOk(['rmi', `${c.registry}/faults-pull:1`]);
    },
  },
  {
    point: 'push.before-manifest',
    ci: true,
    async setup(c) {
      await c.d.dockerOk(['tag', 'busybox', `${c.registry}/faults-push:1`]);
    },
    op: (c) => c.d.docker(['push', `${c.registry}/faults-push:1`]),
    async retry(c) {
      await c.d.dockerOk(['push', `${c.registry}/faults-push:1`]);
      await c.d.dockerOk(['rmi', `${c.registry}/faults-push:1`]);
    },
  },
  ...(['rmi.after-row', 'gc.after-rows', 'gc.after-blob', 'gc.after-blob'] as const).map(
    (point, i): Scenario => ({
      point,
      // the second blob of the image (its layer's or its config's) as well as the first
      ...(i === 3 ? { n: 2 } : {}),
      ci: i < 3,
      async setup(c) {
        const r = await build(c, `f-rmi${i}`, `FROM busybox\nRUN echo ${i} > /rmi\n`);
        assert.equal(r.code, 0, r.stderr);
      },
      op: (c) => c.d.docker(['rmi', `f-rmi${i}`]),
      async retry(c) {
        const r = await c.d.docker(['rmi', `f-rmi${i}`]);
        assert.ok(r.code === 0 || /No such image/.test(r.stderr), r.stderr);
        // the same content can come back
        const b = await build(c, `f-rmi${i}`, `FROM busybox\nRUN echo ${i} > /rmi\n`);
        assert.equal(b.code, 0, b.stderr);
        await c.d.dockerOk(['rmi', `f-rmi${i}`]);
      },
    }),
  ),
];
