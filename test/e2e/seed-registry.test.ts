// scripts/setup.sh seeds the quick start's registry through test/fixtures/seed-registry.js
// (issue 8 item 6): a registry it started is its own to seed; into a registry someone else runs
// it pushes busybox only when that registry has no busybox yet, never over theirs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOciLayout } from '../fixtures/image-archive.js';
import { freePort, pushImage, startRegistry, type RunningRegistry } from '../fixtures/registry.js';
import { tarOf } from '../fixtures/tar-of.js';
import { runCommand } from './harness.js';

const SEED = fileURLToPath(new URL('../fixtures/seed-registry.js', import.meta.url));

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

async function digestOf(host: string, repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

function seed(port: number, dir: string) {
  return runCommand(process.execPath, [SEED, '--port', String(port), '--dir', dir], { timeoutMs: 120_000 });
}

describe('seed-registry (setup.sh) leaves other registries alone', () => {
  let work: string;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-seed-test-'));
  });
  after(async () => {
    for (const stop of stops) await stop();
    await rm(work, { recursive: true, force: true });
  });

  async function foreign(): Promise<RunningRegistry> {
    const reg = await startRegistry();
    stops.push(reg.stop);
    return reg;
  }

  test('a foreign registry that has a busybox keeps its own', async () => {
    const reg = await foreign();
    const theirs = join(work, 'theirs');
    await writeOciLayout(await tarOf([{ header: { name: 'marker' }, body: 'not busybox\n' }]), theirs);
    await pushImage(reg.host, theirs, 'busybox:latest');
    const before = await digestOf(reg.host, 'busybox', 'latest');
    assert.ok(before);
    const r = await seed(Number(reg.host.split(':')[1]), join(work, 'state-1'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /left as it is/);
    assert.equal(await digestOf(reg.host, 'busybox', 'latest'), before);
  });

  test('a foreign registry without busybox gets one', async () => {
    const reg = await foreign();
    const r = await seed(Number(reg.host.split(':')[1]), join(work, 'state-2'));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await digestOf(reg.host, 'busybox', 'latest'));
  });

  test('a registry the script started is its own: started, seeded, and seeded again', async () => {
    const port = await freePort();
    const dir = join(work, 'state-3');
    stops.push(async () => {
      const pid = Number((await readFile(join(dir, 'registry.pid'), 'utf8').catch(() => '0')).trim());
      if (pid > 0) process.kill(pid, 'SIGTERM');
    });
    const first = await seed(port, dir);
    assert.equal(first.code, 0, first.stderr);
    const host = `127.0.0.1:${port}`;
    const digest = await digestOf(host, 'busybox', 'latest');
    assert.ok(digest);
    const again = await seed(port, dir);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /left as it is/);
    assert.equal(await digestOf(host, 'busybox', 'latest'), digest);
  });
});
