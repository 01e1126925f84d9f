// Crash points of the second sweep (issue 11, item 2): inside a layer's unpack, docker load, the
// four prunes, volume create and rm, rm -v, a create's anonymous volume, network rm, rename,
// docker cp into a container, network disconnect, pause/unpause and docker update; and deeper
// passes (the 2nd, 3rd layer) of the pull's points.
// Each retry first checks that what the API says after the restart is what is really there.
// The CI form runs those that found a bug (rm -v, volume rm and create, a create's anonymous
// volume, a --rm container's exit, rename, disconnect, unpause, update) and the mid-layer
// unpack; `npm run faults` runs all.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, idOf, rmIfThere, runDetached, sweep, type Ctx, type Scenario } from './scenario-kit.js';

// three layers of its own over busybox's, the middle one with 300 files (a mid-layer crash has room)
const LAYERED = [
  'FROM busybox',
  'RUN echo one > /one',
  'RUN mkdir /many && cd /many && i=0; while [ $i -lt 300 ]; do echo file-$i > f$i; i=$((i+1)); done',
  'RUN echo three > /three',
  '',
].join('\n');
const LAYERED_CHECK = 'cat /one /three; ls /many | wc -l; cat /many/* | md5sum';

/** What an intact copy of the layered image shows, from the build that made it. */
let layeredWant = '';

const contentOf = (c: Ctx, image: string) => c.d.dockerOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', LAYERED_CHECK]);

/** The layered image in the registry (not in the daemon). */
async function pushLayered(c: Ctx, ref: string): Promise<void> {
  const r = await build(c, ref, LAYERED);
  assert.equal(r.code, 0, r.stderr);
  layeredWant = await contentOf(c, ref);
  await c.d.dockerOk(['push', ref]);
  await c.d.dockerOk(['rmi', ref]);
}

function pullScenario(point: string, n: number, ci: boolean, label?: string): Scenario {
  const ref = (c: Ctx) => `${c.registry}/faults-layered:1`;
  return {
    point,
    ...(n > 1 ? { n } : {}),
    ...(label ? { label } : {}),
    ci,
    setup: (c) => pushLayered(c, ref(c)),
    op: (c) => c.d.docker(['pull', ref(c)]),
    async retry(c) {
      await c.d.dockerOk(['pull', ref(c)]);
      assert.equal(await contentOf(c, ref(c)), layeredWant, 'the pull after the crash gives the image whole');
      await c.d.dockerOk(['rmi', ref(c)]);
    },
  };
}

/** A dir of `count` files for docker cp. */
async function cpSource(count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-faults-cp-'));
  await mkdir(join(dir, 'cpdir'));
  for (let i = 0; i < count; i++) await writeFile(join(dir, 'cpdir', `f${i}`), `cp-${i}\n`.repeat(50));
  return dir;
}

/** The container's memory limit as its cgroup has it (v1 or v2), in bytes; 'max' is none. */
async function cgroupMemoryLimit(id: string): Promise<string> {
  for (const f of [`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, `/sys/fs/cgroup/berth/${id}/memory.max`]) {
    try {
      return (await readFile(f, 'utf8')).trim();
    } catch {
      // the other cgroup version
    }
  }
  throw new Error(`no memory cgroup found for ${id}`);
}

/** A running or paused container whose state the API tells truly: exec works once it runs. */
async function usable(c: Ctx, name: string): Promise<void> {
  const st = await c.d.waitInspect(name, () => true);
  assert.equal(st.State.Running, true, `${name} runs`);
  if (st.State.Paused) await c.d.dockerOk(['unpause', name]);
  assert.equal(await c.d.dockerOk(['exec', name, 'echo', 'alive']), 'alive');
}

/** Resolves `name` through the embedded DNS of a container on the network; '' when it does not resolve. */
async function resolve(c: Ctx, from: string, name: string): Promise<string> {
  const r = await c.d.docker(['exec', from, 'nslookup', '-type=a', name, '127.0.0.11']);
  const m = /Name:\s+\S+\s+Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)/.exec(r.stdout);
  return m?.[1] ?? '';
}

let anonVolume = '';
let volumesBefore: string[] = [];

async function volumeNames(c: Ctx): Promise<string[]> {
  const r = await c.d.api('GET', '/volumes');
  return ((r.json as { Volumes: { Name: string }[] | null }).Volumes ?? []).map((v) => v.Name).sort();
}
let cpDir = '';

export const MORE_SCENARIOS: Scenario[] = [
  // a crash inside a layer's unpack: its first entry, and mid-way through the 300-file layer
  pullScenario('unpack.after-entry', 1, true),
  pullScenario('unpack.after-entry', 150, false),
  // the layer rows of the 2nd and 3rd layer of the pull
  pullScenario('layer.before-row', 2, false),
  pullScenario('layer.before-row', 3, false),

  // docker load: after busybox's layer and the first (then the second) layer of the image's own
  ...sweep([2, 3], false, (n) => ({
    point: 'load.after-layer',
    async setup(c) {
      const r = await build(c, 'f-load', LAYERED);
      assert.equal(r.code, 0, r.stderr);
      layeredWant = await contentOf(c, 'f-load');
      cpDir = await mkdtemp(join(tmpdir(), 'berth-faults-load-'));
      await c.d.dockerOk(['save', '-o', join(cpDir, 'img.tar'), 'f-load']);
      await c.d.dockerOk(['rmi', 'f-load']);
    },
    op: (c) => c.d.docker(['load', '-i', join(cpDir, 'img.tar')]),
    async retry(c) {
      const images = await c.d.api('GET', '/images/json');
      const tagged = (images.json as { RepoTags: string[] | null }[]).some((i) => i.RepoTags?.includes('f-load:latest'));
      assert.equal(tagged, false, `load cut short at layer ${n} left no image`);
      await c.d.dockerOk(['load', '-i', join(cpDir, 'img.tar')]);
      assert.equal(await contentOf(c, 'f-load'), layeredWant);
      await c.d.dockerOk(['rmi', 'f-load']);
      await rm(cpDir, { recursive: true, force: true });
    },
  })),

  // the second image of a two-image archive (the first one's row is in)
  {
    point: 'image.before-row',
    n: 2,
    label: 'image.before-row:2 (load of two images)',
    ci: false,
    async setup(c) {
      for (const x of ['a', 'b']) {
        const r = await build(c, `f-ld-${x}`, `FROM busybox\nRUN echo ${x} > /which\n`);
        assert.equal(r.code, 0, r.stderr);
      }
      cpDir = await mkdtemp(join(tmpdir(), 'berth-faults-load-'));
      await c.d.dockerOk(['save', '-o', join(cpDir, 'two.tar'), 'f-ld-a', 'f-ld-b']);
      await c.d.dockerOk(['rmi', 'f-ld-a', 'f-ld-b']);
    },
    op: (c) => c.d.docker(['load', '-i', join(cpDir, 'two.tar')]),
    async retry(c) {
      await c.d.dockerOk(['load', '-i', join(cpDir, 'two.tar')]);
      for (const x of ['a', 'b']) assert.equal(await c.d.dockerOk(['run', '--rm', '--network', 'none', `f-ld-${x}`, 'cat', '/which']), x);
      await c.d.dockerOk(['rmi', 'f-ld-a', 'f-ld-b']);
      await rm(cpDir, { recursive: true, force: true });
    },
  },

  // prunes, cut short after the first (and the second) of three objects went
  ...sweep([1, 2], false, () => ({
    point: 'prune.after-container',
    async setup(c) {
      for (let i = 0; i < 3; i++) c.made(await c.d.dockerOk(['create', '--name', `f-pc${i}`, '-v', '/data', 'busybox', 'true']));
    },
    op: (c) => c.d.docker(['container', 'prune', '-f']),
    async retry(c) {
      const out = await c.d.dockerOk(['container', 'prune', '-f']);
      for (let i = 0; i < 3; i++) assert.equal(await idOf(c, `f-pc${i}`), undefined, out);
      await c.d.dockerOk(['volume', 'prune', '-f']);
    },
  })),
  ...sweep([1, 2], false, () => ({
    point: 'prune.after-volume',
    async setup(c) {
      for (let i = 0; i < 3; i++) await c.d.dockerOk(['volume', 'create', `f-pv${i}`]);
    },
    op: (c) => c.d.docker(['volume', 'prune', '-a', '-f']),
    async retry(c) {
      await c.d.dockerOk(['volume', 'prune', '-a', '-f']);
      for (let i = 0; i < 3; i++) assert.equal((await c.d.api('GET', `/volumes/f-pv${i}`)).status, 404);
    },
  })),
  ...sweep([1, 2], false, () => ({
    point: 'prune.after-network',
    async setup(c) {
      for (let i = 0; i < 3; i++) await c.d.dockerOk(['network', 'create', `f-pn${i}`]);
    },
    op: (c) => c.d.docker(['network', 'prune', '-f']),
    async retry(c) {
      await c.d.dockerOk(['network', 'prune', '-f']);
      for (let i = 0; i < 3; i++) assert.equal((await c.d.api('GET', `/networks/f-pn${i}`)).status, 404);
      // the names can be made again, and used
      await c.d.dockerOk(['network', 'create', 'f-pn0']);
      await c.d.dockerOk(['run', '--rm', '--network', 'f-pn0', 'busybox', 'true']);
      await c.d.dockerOk(['network', 'rm', 'f-pn0']);
    },
  })),
  ...sweep([1, 2], false, () => ({
    point: 'prune.after-image',
    async setup(c) {
      for (let i = 0; i < 3; i++) {
        const r = await build(c, `f-pi${i}`, `FROM busybox\nLABEL f-prune=1\nRUN echo ${i} > /pi\n`);
        assert.equal(r.code, 0, r.stderr);
      }
    },
    op: (c) => c.d.docker(['image', 'prune', '-a', '-f', '--filter', 'label=f-prune=1']),
    async retry(c) {
      await c.d.dockerOk(['image', 'prune', '-a', '-f', '--filter', 'label=f-prune=1']);
      for (let i = 0; i < 3; i++) assert.equal((await c.d.api('GET', `/images/f-pi${i}/json`)).status, 404);
      const r = await build(c, 'f-pi0', 'FROM busybox\nLABEL f-prune=1\nRUN echo 0 > /pi\n');
      assert.equal(r.code, 0, r.stderr);
      await c.d.dockerOk(['rmi', 'f-pi0']);
    },
  })),

  // volume rm: the dir renamed away, the row not yet gone: gone whole at the restart
  {
    point: 'volume-rm.after-rename',
    ci: true,
    async setup(c) {
      await c.d.dockerOk(['run', '--rm', '--network', 'none', '-v', 'f-vrm:/v', 'busybox', 'sh', '-c', 'echo old > /v/old']);
    },
    op: (c) => c.d.docker(['volume', 'rm', 'f-vrm']),
    async retry(c) {
      const r = await c.d.docker(['volume', 'rm', 'f-vrm']);
      assert.ok(r.code === 0 || /no such volume/i.test(r.stderr), r.stderr);
      // made again under the name, it is a new, empty volume
      assert.equal(await c.d.dockerOk(['run', '--rm', '--network', 'none', '-v', 'f-vrm:/v', 'busybox', 'ls', '-A', '/v']), '');
      await c.d.dockerOk(['volume', 'rm', 'f-vrm']);
    },
  },

  // volume create: the dir made, the row not yet
  {
    point: 'volume-create.after-dir',
    ci: true,
    op: (c) => c.d.docker(['volume', 'create', 'f-vcr']),
    async retry(c) {
      const r = await c.d.docker(['volume', 'create', 'f-vcr']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await c.d.dockerOk(['run', '--rm', '--network', 'none', '-v', 'f-vcr:/v', 'busybox', 'sh', '-c', 'echo x > /v/x; cat /v/x']), 'x');
      await c.d.dockerOk(['volume', 'rm', 'f-vcr']);
    },
  },
  // a create with an anonymous volume cut short before its row: no volume is left to no one
  {
    point: 'create.before-row',
    label: 'create.before-row (anonymous volume)',
    ci: true,
    op: async (c) => {
      volumesBefore = await volumeNames(c);
      return c.d.docker(['create', '--name', 'f-create-vol', '-v', '/data', 'busybox', 'true']);
    },
    async retry(c) {
      assert.equal(await idOf(c, 'f-create-vol'), undefined);
      assert.deepEqual(await volumeNames(c), volumesBefore, 'the volume made for a create that never finished is gone');
      c.made(await c.d.dockerOk(['create', '--name', 'f-create-vol', '-v', '/data', 'busybox', 'true']));
      await c.d.dockerOk(['rm', '-v', 'f-create-vol']);
    },
  },
  // network rm: the bridge gone, the row not yet
  {
    point: 'network-rm.after-bridge',
    ci: false,
    async setup(c) {
      await c.d.dockerOk(['network', 'create', 'f-nrm']);
      await c.d.dockerOk(['run', '--rm', '--network', 'f-nrm', 'busybox', 'true']);
    },
    op: (c) => c.d.docker(['network', 'rm', 'f-nrm']),
    async retry(c) {
      if ((await c.d.api('GET', '/networks/f-nrm')).status === 200) {
        // still there: usable, then removable
        await c.d.dockerOk(['run', '--rm', '--network', 'f-nrm', 'busybox', 'true']);
        await c.d.dockerOk(['network', 'rm', 'f-nrm']);
      }
      await c.d.dockerOk(['network', 'create', 'f-nrm']);
      await c.d.dockerOk(['run', '--rm', '--network', 'f-nrm', 'busybox', 'true']);
      await c.d.dockerOk(['network', 'rm', 'f-nrm']);
    },
  },

  // a --rm container's exit recorded, its removal not begun: removed at the restart (moby's restore)
  {
    point: 'exit.after-row',
    label: 'exit.after-row (--rm)',
    ci: true,
    async setup(c) {
      await runDetached(c, 'f-exit-rm', ['--rm', '-v', '/data']);
      const st = await c.d.waitInspect('f-exit-rm', () => true);
      anonVolume = (st.Mounts as { Name: string; Destination: string }[]).find((m) => m.Destination === '/data')!.Name;
    },
    op: (c) => c.d.docker(['kill', '-s', 'TERM', 'f-exit-rm']),
    async retry(c) {
      const deadline = Date.now() + 10_000;
      while ((await idOf(c, 'f-exit-rm')) !== undefined) {
        assert.ok(Date.now() < deadline, 'the --rm container whose exit the last daemon recorded is removed');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await c.d.api('GET', `/volumes/${anonVolume}`)).status, 404, 'with its anonymous volume');
      await runDetached(c, 'f-exit-rm', ['--rm']);
      await c.d.dockerOk(['rm', '-f', 'f-exit-rm']);
    },
  },

  // rm -v cut short: the finish at start-up takes the anonymous volume too
  ...(['rm.after-snapshot', 'rm.after-row'] as const).map(
    (point, i): Scenario => ({
      point,
      label: `${point} (rm -v)`,
      ci: i === 0,
      async setup(c) {
        await runDetached(c, `f-rmv${i}`, ['-v', '/data']);
        const st = await c.d.waitInspect(`f-rmv${i}`, () => true);
        anonVolume = (st.Mounts as { Name: string; Destination: string }[]).find((m) => m.Destination === '/data')!.Name;
      },
      op: (c) => c.d.docker(['rm', '-f', '-v', `f-rmv${i}`]),
      async retry(c) {
        await rmIfThere(c, `f-rmv${i}`);
        assert.equal((await c.d.api('GET', `/volumes/${anonVolume}`)).status, 404, `the anonymous volume of an rm -v cut short at ${point} is gone`);
      },
    }),
  ),

  // exec start: a second exec, after one ran to its end (above: the first)

  // rename: the row has the new name, aardvark-dns the old one
  {
    point: 'rename.after-row',
    ci: true,
    async setup(c) {
      await c.d.dockerOk(['network', 'create', 'f-rn-net']);
      await runDetached(c, 'f-rn1', ['--network', 'f-rn-net']);
      await runDetached(c, 'f-rn-peer', ['--network', 'f-rn-net']);
    },
    op: (c) => c.d.docker(['rename', 'f-rn1', 'f-rn2']),
    async retry(c) {
      const st = await c.d.waitInspect((await idOf(c, 'f-rn1')) ?? (await idOf(c, 'f-rn2'))!, () => true);
      const name = st.Name.slice(1) as string;
      const other = name === 'f-rn1' ? 'f-rn2' : 'f-rn1';
      const ip = st.NetworkSettings.Networks['f-rn-net'].IPAddress as string;
      assert.equal(await resolve(c, 'f-rn-peer', name), ip, `${name} (its name after the restart) resolves`);
      assert.equal(await resolve(c, 'f-rn-peer', other), '', `${other} resolves no more`);
      await c.d.dockerOk(['rename', name, 'f-rn3']);
      assert.equal(await resolve(c, 'f-rn-peer', 'f-rn3'), ip);
      await c.d.dockerOk(['rm', '-f', 'f-rn3', 'f-rn-peer']);
      await c.d.dockerOk(['network', 'rm', 'f-rn-net']);
    },
  },

  // docker cp into a stopped container, cut short after the first entry and mid-archive
  ...sweep([1, 60], false, () => ({
    point: 'cp.after-entry',
    async setup(c) {
      cpDir = await cpSource(100);
      c.made(await c.d.dockerOk(['create', '--name', 'f-cp', 'busybox', 'sh', '-c', 'ls /cpdir | wc -l; cat /cpdir/* | wc -l']));
    },
    op: (c) => c.d.docker(['cp', join(cpDir, 'cpdir'), 'f-cp:/']),
    async retry(c) {
      await c.d.dockerOk(['cp', join(cpDir, 'cpdir'), 'f-cp:/']);
      assert.equal(await c.d.dockerOk(['start', '-a', 'f-cp']), '100\n5000');
      await c.d.dockerOk(['rm', 'f-cp']);
      await rm(cpDir, { recursive: true, force: true });
    },
  })),

  // network disconnect: torn down in the container, the endpoint row not yet gone
  {
    point: 'disconnect.after-teardown',
    ci: true,
    async setup(c) {
      await c.d.dockerOk(['network', 'create', 'f-dc-net']);
      await runDetached(c, 'f-dc', ['--network', 'f-dc-net']);
      await c.d.dockerOk(['network', 'connect', 'bridge', 'f-dc']);
    },
    op: (c) => c.d.docker(['network', 'disconnect', 'f-dc-net', 'f-dc']),
    async retry(c) {
      const connected = async () => {
        const ip = (await c.d.waitInspect('f-dc', () => true)).NetworkSettings.Networks['f-dc-net']?.IPAddress as string | undefined;
        const addrs = await c.d.dockerOk(['exec', 'f-dc', 'ip', '-4', '-o', 'addr']);
        return { ip, addrs };
      };
      const after = await connected();
      // either still connected for real or not at all
      if (after.ip) assert.ok(after.addrs.includes(`${after.ip}/`), `inspect says ${after.ip}, the container has\n${after.addrs}`);
      if (after.ip) await c.d.dockerOk(['network', 'disconnect', 'f-dc-net', 'f-dc']);
      assert.equal((await connected()).ip, undefined);
      await c.d.dockerOk(['network', 'connect', 'f-dc-net', 'f-dc']);
      const again = await connected();
      assert.ok(again.ip && again.addrs.includes(`${again.ip}/`), again.addrs);
      await c.d.dockerOk(['rm', '-f', 'f-dc']);
      await c.d.dockerOk(['network', 'rm', 'f-dc-net']);
    },
  },

  // pause and unpause cut short with the cgroup frozen (or thawed) and the row not yet saying so
  {
    point: 'pause.after-freeze',
    ci: false,
    setup: (c) => runDetached(c, 'f-pause').then(() => undefined),
    op: (c) => c.d.docker(['pause', 'f-pause']),
    async retry(c) {
      await usable(c, 'f-pause');
      await c.d.dockerOk(['pause', 'f-pause']);
      await c.d.dockerOk(['unpause', 'f-pause']);
      await c.d.dockerOk(['rm', '-f', 'f-pause']);
    },
  },
  {
    point: 'unpause.after-thaw',
    ci: true,
    async setup(c) {
      await runDetached(c, 'f-unpause');
      await c.d.dockerOk(['pause', 'f-unpause']);
    },
    op: (c) => c.d.docker(['unpause', 'f-unpause']),
    async retry(c) {
      await usable(c, 'f-unpause');
      await c.d.dockerOk(['pause', 'f-unpause']);
      await c.d.dockerOk(['unpause', 'f-unpause']);
      await c.d.dockerOk(['rm', '-f', 'f-unpause']);
    },
  },

  // docker update: the row has the new limit; the cgroup must have it too after the restart
  {
    point: 'update.after-row',
    ci: true,
    setup: (c) => runDetached(c, 'f-upd').then(() => undefined),
    op: (c) => c.d.docker(['update', '--memory', '64m', '--memory-swap', '128m', 'f-upd']),
    async retry(c) {
      const st = await c.d.waitInspect('f-upd', () => true);
      const limit = await cgroupMemoryLimit(st.Id);
      if (st.HostConfig.Memory === 64 * 1024 * 1024) assert.equal(limit, String(64 * 1024 * 1024), 'inspect and the cgroup agree after the restart');
      await c.d.dockerOk(['update', '--memory', '96m', '--memory-swap', '192m', 'f-upd']);
      assert.equal(await cgroupMemoryLimit(st.Id), String(96 * 1024 * 1024));
      await c.d.dockerOk(['exec', 'f-upd', 'true']);
      await c.d.dockerOk(['rm', '-f', 'f-upd']);
    },
  },
];
