/**
 * The `cri` part of `npm run bench`: a berth daemon of its own with the CRI front end on (a
 * private socket, the bench registry's images) and, when containerd and the CNI plugins are
 * installed, a private containerd with its CRI plugin (containerd.ts), timed side by side by
 * pod-start.ts. Everything it starts it stops, whatever happens.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { leakCheck, leakCount, startDaemon, type Daemon } from '../../test/e2e/harness.js';
import { criClient, type CriClient } from '../../test/fixtures/cri-client.js';
import { containerdMissing, startContainerd, type Containerd } from './containerd.js';
import { criBenchImages } from './images.js';
import { CriBench, removeAllPods, type CriSide } from './pod-start.js';

// clear of the default pod subnet (10.223/16), which test daemons use meanwhile
const BERTH_POD_SUBNET = '10.220.0.0/16';

async function waitCri(socket: string): Promise<CriClient> {
  const deadline = Date.now() + 30_000;
  let last = 'no socket';
  while (Date.now() < deadline) {
    if (existsSync(socket)) {
      const c = criClient(socket);
      try {
        await c.runtime.version({}, { deadline: Date.now() + 2000 });
        return c;
      } catch (err) {
        last = (err as Error).message;
        c.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`berth's CRI socket ${socket} did not answer within 30 s: ${last}`);
}

export async function criPart(widths: number[]): Promise<string[]> {
  const work = await mkdtemp('/tmp/bench-cri-');
  const images = await criBenchImages(work);
  let berth: Daemon | undefined;
  let containerd: Containerd | undefined;
  const clients: CriClient[] = [];
  let note: string;
  try {
    berth = await startDaemon({ logLevel: 'info', cri: { 'sandbox-image': images.pause, 'pod-subnet': BERTH_POD_SUBNET } });
    const sides: CriSide[] = [{ name: 'berth', client: await waitCri(berth.criSocket) }];
    clients.push(sides[0]!.client);

    const missing = await containerdMissing();
    if (missing.reason) note = `skipped: ${missing.reason}`;
    else {
      try {
        containerd = await startContainerd(missing.cniDir!, images.registry.host, images.pause);
        const c = criClient(containerd.socket);
        clients.push(c);
        sides.push({ name: 'containerd', client: c });
        note = `${containerd.version}, private root/state/socket, CNI bridge with host-local IPAM`;
      } catch (err) {
        note = `failed to start: ${(err as Error).message.slice(0, 300)}`;
      }
    }
    const bench = new CriBench(images, join(work, 'logs'));
    const notes = await bench.measure(sides);
    return bench.lines(widths, note!, notes);
  } finally {
    for (const c of clients) {
      await removeAllPods(c).catch(() => undefined);
      c.close();
    }
    await containerd?.stop();
    if (berth) {
      await berth.cleanup();
      const leaks = await leakCheck(berth.dataRoot, berth.execRoot);
      if (leakCount(leaks) === 0) await rm(berth.base, { recursive: true, force: true });
      else process.stderr.write(`bench: berth (CRI) left things behind in ${berth.base}: ${JSON.stringify(leaks)}\n`);
    }
    await images.registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
