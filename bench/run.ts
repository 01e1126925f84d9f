/**
 * `npm run bench`: time `docker run --rm busybox true` against berth and, when Debian's
 * docker.io is installed (dockerd on PATH), against a dockerd started here with its own roots
 * and socket, in the same run; then berth's memory with 50 running `sleep` containers.
 * The network parts (bridge-run, port-throughput) run both daemons on their default bridge,
 * with a second dockerd on a bridge of its own (networkParts below).
 * The cri part (cri/part.ts) starts its own berth with CRI on and a private containerd 1.6 CRI
 * plugin, and times pod start and ExecSync over gRPC on both.
 *
 * Like with like: both daemons get the same busybox image (the test fixture, loaded with
 * `docker load`), the same docker CLI, and `--network none` on every run (berth has no bridge
 * network yet; dockerd runs with --bridge=none --iptables=false so it never takes docker0 or
 * 172.17.0.0/16).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DOCKER_BIN,
  findProcesses,
  leakCheck,
  leakCount,
  prepareFixtures,
  runCommand,
  startDaemon,
  type Daemon,
} from '../test/e2e/harness.js';
import { dockerFor, mustDocker, timing, type Docker, type Timing } from './docker-runner.js';
import { ExecBench } from './exec.js';
import { AttachBench } from './attach.js';
import { ApiPathBench } from './api-path.js';
import { ParallelBench } from './parallel.js';
import { LogsBench } from './logs.js';
import { BulkBench } from './bulk.js';
import { BridgeRunBench } from './bridge-run.js';
import { PortThroughputBench } from './port-throughput.js';
import { createBenchBridge } from './dockerd-bridge.js';
import { startDockerd } from './dockerd.js';
import { IMAGE_PARTS, ImageBenchShared, type ImageBenchSide } from './images/parts.js';
import { criPart } from './cri/part.js';

const WARMUP = 3;
const RUNS = 20;
const CONTAINERS = 50;
// the second dockerd, on its own default bridge, for the network parts
const DOCKERD_BRIDGED_BASE = '/tmp/bench-brdockerd';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `node dist/bench/run.js [part...]` runs only the parts named (all when none is). */
const PARTS = ['run', 'exec', 'api', 'parallel', 'attach', 'logs', 'bulk', ...Object.keys(IMAGE_PARTS), 'bridge-run', 'port-throughput', 'cri', 'memory'];
const NETWORK_PARTS = ['bridge-run', 'port-throughput'];
const picked = process.argv.slice(2);
const wants = (part: string): boolean => picked.length === 0 || picked.includes(part);

/**
 * Wall time (ms) of `docker run --rm --network none busybox true` on each daemon. Runs alternate
 * between the daemons so that both see the same machine (other load, caches, CPU frequency):
 * run one after the other, a burst of noise lands on one side only and skews the ratio.
 */
async function timeRuns(dockers: Docker[]): Promise<Timing[]> {
  const args = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
  for (let i = 0; i < WARMUP; i++) for (const d of dockers) await mustDocker(d, args);
  const times: number[][] = dockers.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, d] of dockers.entries()) {
      const t0 = process.hrtime.bigint();
      await mustDocker(d, args);
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times.map(timing);
}

/** VmRSS and PSS of a process, in KiB. */
async function memoryOf(pid: number): Promise<{ rss: number; pss: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: field(status, 'VmRSS'), pss: field(rollup, 'Pss') };
}

const fmtMs = (x: number) => `${x.toFixed(1)} ms`;
const fmtKiB = (x: number) => `${(x / 1024).toFixed(2)} MiB`;
const pad = (s: string, n: number) => s.padEnd(n);

/** berth's memory: the idle daemon, then with CONTAINERS running `sleep` containers. */
async function memoryLines(berth: Daemon, bdocker: Docker, w: number[]): Promise<string[]> {
  await sleep(1000);
  const pid = berth.pid!;
  const idle = await memoryOf(pid);
  process.stderr.write(`bench: starting ${CONTAINERS} sleep containers on berth...\n`);
  for (let i = 0; i < CONTAINERS; i++) await mustDocker(bdocker, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000']);
  await sleep(1000);
  const busy = await memoryOf(pid);
  const conmons = await findProcesses([berth.execRoot], 'conmon');
  let conmonRss = 0;
  let conmonPss = 0;
  for (const c of conmons) {
    const m = await memoryOf(c.pid).catch(() => ({ rss: 0, pss: 0 }));
    conmonRss += m.rss;
    conmonPss += m.pss;
  }
  const ids = (await mustDocker(bdocker, ['ps', '-aq'])).split('\n').filter(Boolean);
  if (ids.length > 0) await mustDocker(bdocker, ['rm', '-f', ...ids]);
  return [
    `${pad(`berth memory (${CONTAINERS} x sleep 1000)`, w[0])}${pad('RSS', w[1])}PSS`,
    `${pad('  daemon idle', w[0])}${pad(fmtKiB(idle.rss), w[1])}${fmtKiB(idle.pss)}`,
    `${pad(`  daemon with ${CONTAINERS} running`, w[0])}${pad(fmtKiB(busy.rss), w[1])}${fmtKiB(busy.pss)}`,
    `${pad(`  ${conmons.length} conmon processes, total`, w[0])}${pad(fmtKiB(conmonRss), w[1])}${fmtKiB(conmonPss)}`,
    `${pad('  added per container (daemon growth + conmon)', w[0])}${pad(fmtKiB((busy.rss - idle.rss + conmonRss) / CONTAINERS), w[1])}${fmtKiB(
      (busy.pss - idle.pss + conmonPss) / CONTAINERS,
    )}`,
    '',
  ];
}

/**
 * The network parts, against a dockerd of their own on its default bridge (dockerd-bridge.ts:
 * its own bridge and subnet, --iptables=true, userland proxy on as by default), berth on its
 * default bridge. Returns the note on dockerd's side for the table.
 */
async function networkParts(berth: Daemon, bdocker: Docker, archive: Buffer, bridgeRun: BridgeRunBench, port: PortThroughputBench): Promise<string> {
  const berthBridge = await berth.api('GET', '/networks/bridge');
  const avoid = ((berthBridge.json?.IPAM?.Config ?? []) as { Subnet?: string }[]).flatMap((c) => (c.Subnet && !c.Subnet.includes(':') ? [c.Subnet] : []));
  let note = 'not installed (apt-get install docker.io to compare)';
  let dockerd: Awaited<ReturnType<typeof startDockerd>>;
  let bridge: Awaited<ReturnType<typeof createBenchBridge>> | undefined;
  if ((await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0) {
    try {
      bridge = await createBenchBridge(avoid);
      dockerd = await startDockerd(DOCKERD_BRIDGED_BASE, [`--bridge=${bridge.name}`, '--iptables=true', '--ip-masq=true']);
    } catch (err) {
      note = `failed to start: ${(err as Error).message.slice(0, 300)}`;
      await bridge?.cleanup();
      bridge = undefined;
    }
  }
  try {
    const sides = new Map<'berth' | 'dockerd', Docker>([['berth', bdocker]]);
    if (dockerd) {
      const ddocker = dockerFor(dockerd.socket, berth.dockerConfig);
      const version = await mustDocker(ddocker, ['version', '--format', '{{.Server.Version}}']);
      note = `dockerd ${version} on bridge ${bridge!.name} (${bridge!.subnet}), --iptables=true, userland proxy on`;
      await mustDocker(ddocker, ['load'], archive);
      sides.set('dockerd', ddocker);
    }
    if (wants('bridge-run')) await bridgeRun.measure(sides);
    if (wants('port-throughput')) await port.measure(sides);
  } finally {
    await dockerd?.stop();
    await bridge?.cleanup();
  }
  return note;
}

async function main(): Promise<void> {
  const unknown = picked.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) throw new Error(`unknown part ${unknown.join(', ')}; parts: ${PARTS.join(' ')}`);
  const fx = await prepareFixtures();
  const archive = await readFile(fx.archive);
  const cliVersion = (await runCommand(DOCKER_BIN, ['version', '--format', '{{.Client.Version}}'])).stdout.trim();

  // berth at its production log level: debug logging would slow it down
  const berth = await startDaemon({ logLevel: 'info' });
  const results: string[] = [];
  const execBench = new ExecBench();
  const attachBench = new AttachBench();
  const apiBench = new ApiPathBench();
  const parallelBench = new ParallelBench();
  const logsBench = new LogsBench();
  const bulkBench = new BulkBench();
  const bridgeRunBench = new BridgeRunBench();
  const portBench = new PortThroughputBench();
  const imageParts = Object.entries(IMAGE_PARTS).filter(([name]) => wants(name)).map(([, make]) => make());
  const imageShared = new ImageBenchShared();
  const berthSide: ImageBenchSide = { name: 'berth', docker: dockerFor(berth.socket, berth.dockerConfig), socket: berth.socket, configDir: berth.dockerConfig, pid: berth.pid };
  let bridgedNote = 'not installed';
  try {
    const bdocker = dockerFor(berth.socket, berth.dockerConfig);
    await mustDocker(bdocker, ['load'], archive);
    let berthTime: Timing | undefined;
    let dockerdTime: Timing | undefined;
    let dockerdNote = 'not installed (apt-get install docker.io to compare)';
    // cri starts daemons of its own (cri/part.ts)
    const noBridgeParts = PARTS.filter((p) => !NETWORK_PARTS.includes(p) && p !== 'memory' && p !== 'cri').some(wants);
    const dockerd = !noBridgeParts ? undefined : await startDockerd().catch((err: Error) => {
      dockerdNote = `failed to start: ${err.message.slice(0, 300)}`;
      return undefined;
    });
    if (dockerd) {
      try {
        const ddocker = dockerFor(dockerd.socket, berth.dockerConfig);
        const version = await mustDocker(ddocker, ['version', '--format', '{{.Server.Version}}']);
        dockerdNote = `dockerd ${version}, --bridge=none --iptables=false`;
        await mustDocker(ddocker, ['load'], archive);
        process.stderr.write(`bench: timing berth and dockerd, alternating (${WARMUP} warm-up + ${RUNS} runs each)...\n`);
        if (wants('run')) [berthTime, dockerdTime] = await timeRuns([bdocker, ddocker]);
        if (wants('exec')) {
          await execBench.measure('berth', bdocker, join(berth.execRoot, 'runc'));
          await execBench.measure('dockerd', ddocker);
        }
        if (wants('api')) await apiBench.measure(new Map([['berth', berth.socket], ['dockerd', dockerd.socket]]));
        if (wants('parallel')) await parallelBench.measure(new Map([['berth', bdocker], ['dockerd', ddocker]]));
        if (wants('attach')) {
          await attachBench.measure('berth', { socket: berth.socket, configDir: berth.dockerConfig });
          await attachBench.measure('dockerd', { socket: dockerd.socket, configDir: berth.dockerConfig });
        }
        if (wants('logs')) {
          await logsBench.measure('berth', { socket: berth.socket, configDir: berth.dockerConfig });
          await logsBench.measure('dockerd', { socket: dockerd.socket, configDir: berth.dockerConfig });
        }
        if (wants('bulk')) await bulkBench.measure(new Map([['berth', bdocker], ['dockerd', ddocker]]));
        const dockerdSide: ImageBenchSide = { name: 'dockerd', docker: ddocker, socket: dockerd.socket, configDir: berth.dockerConfig, pid: dockerd.child.pid };
        for (const part of imageParts) await part.measure([berthSide, dockerdSide], imageShared);
      } finally {
        await dockerd.stop();
      }
    } else if (noBridgeParts) {
      process.stderr.write(`bench: timing berth (${WARMUP} warm-up + ${RUNS} runs)...\n`);
      if (wants('run')) [berthTime] = await timeRuns([bdocker]);
      if (wants('exec')) await execBench.measure('berth', bdocker, join(berth.execRoot, 'runc'));
      if (wants('api')) await apiBench.measure(new Map([['berth', berth.socket]]));
      if (wants('parallel')) await parallelBench.measure(new Map([['berth', bdocker]]));
      if (wants('attach')) await attachBench.measure('berth', { socket: berth.socket, configDir: berth.dockerConfig });
      if (wants('logs')) await logsBench.measure('berth', { socket: berth.socket, configDir: berth.dockerConfig });
      if (wants('bulk')) await bulkBench.measure(new Map([['berth', bdocker]]));
      for (const part of imageParts) await part.measure([berthSide], imageShared);
    }
    if (NETWORK_PARTS.some(wants)) bridgedNote = await networkParts(berth, bdocker, archive, bridgeRunBench, portBench);

    const w = [48, 14, 14, 10];
    const cri = wants('cri') ? await criPart(w) : [];
    const memory = wants('memory') ? await memoryLines(berth, bdocker, w) : [];
    results.push('');
    results.push(`berth bench: docker CLI ${cliVersion}, busybox fixture image, --network none on both sides (but in the network parts)`);
    if (berthTime) {
      results.push('');
      results.push(`${pad('docker run --rm busybox true', w[0])}${pad('berth', w[1])}${pad('dockerd', w[2])}ratio`);
      results.push(
        `${pad(`  median of ${RUNS} (after ${WARMUP} warm-up)`, w[0])}${pad(fmtMs(berthTime.median), w[1])}${pad(dockerdTime ? fmtMs(dockerdTime.median) : '-', w[2])}${
          dockerdTime ? `${(berthTime.median / dockerdTime.median).toFixed(2)}x` : '-'
        }`,
      );
      results.push(
        `${pad('  min / max', w[0])}${pad(`${berthTime.min.toFixed(0)} / ${berthTime.max.toFixed(0)} ms`, w[1])}${pad(
          dockerdTime ? `${dockerdTime.min.toFixed(0)} / ${dockerdTime.max.toFixed(0)} ms` : '-',
          w[2],
        )}`,
      );
    }
    if (berthTime) results.push(`  network: none, dockerd: ${dockerdNote}`);
    results.push('', ...execBench.lines(w));
    results.push('', ...apiBench.lines(w));
    results.push('', ...parallelBench.lines(w));
    results.push('', ...attachBench.lines(w));
    results.push('', ...logsBench.lines(w));
    results.push('', ...bulkBench.lines(w));
    for (const part of imageParts) results.push('', ...part.lines(w));
    results.push('', ...bridgeRunBench.lines(w, bridgedNote));
    results.push('', ...portBench.lines(w));
    if (cri.length > 0) results.push('', ...cri);
    results.push('', ...memory);
  } finally {
    await imageShared.close();
    await berth.cleanup();
    const leaks = await leakCheck(berth.dataRoot, berth.execRoot);
    if (leakCount(leaks) === 0) await rm(berth.base, { recursive: true, force: true });
    else process.stderr.write(`bench: berth left things behind in ${berth.base}: ${JSON.stringify(leaks)}\n`);
  }
  process.stdout.write(`${results.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
