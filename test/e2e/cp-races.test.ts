// A running container that swaps a directory for a symlink to a host path, in a loop, while
// docker cp and docker export work on it (security review §2/§3, CVE-2018-15664 in Docker). The
// host canary must come out untouched and never appear in what is copied out. Before the copies
// went through fds held inside the container root, these runs reached the canary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarOf } from '../fixtures/tar-of.js';
import { daemonForFile, type Daemon } from './harness.js';

const ROUNDS = 40;

describe('docker cp and export against a container swapping symlinks', () => {
  const f = daemonForFile();
  let d: Daemon;
  let work: string;
  let canary: string;
  before(async () => {
    d = f.daemon();
    work = await mkdtemp(join(tmpdir(), 'berth-cp-race-'));
    canary = join(work, 'canary');
    await mkdir(canary, { mode: 0o700 });
    await writeFile(join(canary, 'secret'), 'HOST-SECRET\n', { mode: 0o600 });
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** A container flipping /w/d between a real directory and a link to the host canary. */
  async function swapper(name: string): Promise<void> {
    const script = `mkdir -p /w; while :; do rm -rf /w/d; mkdir /w/d; echo decoy > /w/d/secret; usleep 300; rm -rf /w/d; ln -s ${canary} /w/d; usleep 300; done`;
    await d.dockerOk(['run', '-d', '--name', f.name(name), 'busybox', 'sh', '-c', script]);
  }

  /** What a GET streamed before it ended, or before the connection broke (the tree changes under the walk). */
  async function partialBody(path: string): Promise<string> {
    const chunks: Buffer[] = [];
    try {
      const res = await d.stream('GET', path);
      for await (const c of res) chunks.push(c as Buffer);
    } catch {
      // a cut stream still had to be the container's bytes
    }
    return Buffer.concat(chunks).toString('latin1');
  }

  async function canaryUntouched(): Promise<void> {
    assert.deepEqual((await readdir(canary)).sort(), ['secret']);
    const st = await stat(join(canary, 'secret'));
    assert.equal(st.mode & 0o7777, 0o600);
    assert.equal(st.uid, 0);
    assert.equal(await readFile(join(canary, 'secret'), 'utf8'), 'HOST-SECRET\n');
    assert.equal((await stat(canary)).mode & 0o7777, 0o700);
  }

  test('cp into the container never writes, chmods or chowns through the swapped link', async () => {
    await swapper('race-in');
    // the same names again and again: each one is a remove, create, write, chown, chmod
    const body = await tarOf(
      Array.from({ length: 30 }, () => [
        { header: { name: 'd/', type: 'directory' as const, mode: 0o777 } },
        { header: { name: 'd/secret', mode: 0o4777, uid: 1234, gid: 1234 }, body: Buffer.alloc(8192, 0x41) },
      ]).flat(),
    );
    for (let i = 0; i < ROUNDS; i++) {
      const r = await d.api('PUT', `/containers/race-in/archive?path=${encodeURIComponent('/w')}`, body, {
        // an early error answer leaves the rest of the body unread: no reuse of that connection
        headers: { 'content-type': 'application/x-tar', connection: 'close' },
      });
      // a copy fails when the tree changes under it (a 400 or 500); the host may not change
      assert.ok(!r.text.includes(work) && !r.text.includes('/proc/'), `no host path in the error: ${r.text}`);
    }
    await canaryUntouched();
  });

  test('cp out of the container and export never archive the host file behind the link', async () => {
    await swapper('race-out');
    for (let i = 0; i < ROUNDS; i++) {
      for (const path of ['/w/d', '/w/d/', '/w/d/.', '/w/d/secret']) {
        const body = await partialBody(`/containers/race-out/archive?path=${encodeURIComponent(path)}`);
        assert.ok(!body.includes('HOST-SECRET'), `GET ${path} archived the host file`);
      }
    }
    for (let i = 0; i < 5; i++) {
      const body = await partialBody('/containers/race-out/export');
      assert.ok(!body.includes('HOST-SECRET'), 'export archived the host file');
    }
    await canaryUntouched();
  });
});
