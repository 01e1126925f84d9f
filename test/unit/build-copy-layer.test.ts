import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { copyLayer } from '../../src/images/build/copy-layer.js';

type Ent = { name: string; type: 'file' | 'directory' | 'symlink'; body?: string; mode?: number };

function planTar(entries: Ent[]): Readable {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type, mode: e.mode ?? 0o644, uid: 0, gid: 0, ...(e.type === 'symlink' ? { linkname: 'x' } : {}) }, e.body ?? '');
  pack.finalize();
  return pack as unknown as Readable;
}

async function read(stream: Readable): Promise<{ name: string; mode: number }[]> {
  const out: { name: string; mode: number }[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      out.push({ name: h.name, mode: h.mode! });
      s.on('end', next);
      s.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(ex);
  await done;
  return out;
}

async function rootfs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copy-layer-'));
  await mkdir(join(dir, 'app', 'd'), { recursive: true });
  await chmod(join(dir, 'app'), 0o750);
  await writeFile(join(dir, 'app', 'old'), 'old');
  await symlink('app', join(dir, 'link'));
  return dir;
}

test('a COPY layer holds the existing dirs above its entries as overlay copies them up (owner, mode)', async () => {
  const root = await rootfs();
  try {
    const layer = copyLayer(planTar([{ name: 'app/new.txt', type: 'file', body: 'hi' }, { name: 'app/sub/', type: 'directory', mode: 0o755 }, { name: 'app/sub/x', type: 'file', body: 'x' }, { name: 'app/old', type: 'file', body: 'new' }]), root);
    const got = await read(layer.tar);
    assert.deepEqual(got.map((e) => e.name), ['app/', 'app/new.txt', 'app/sub/', 'app/sub/x', 'app/old']);
    assert.equal(got[0]!.mode & 0o7777, 0o750);
    assert.equal(layer.fallback(), false);
  } finally {
    await rm(root, { recursive: true });
  }
});

test('a COPY layer falls back to the container path for a type change or a symlink on the way', async () => {
  const root = await rootfs();
  try {
    for (const entries of [[{ name: 'app/d', type: 'file' as const, body: 'f' }], [{ name: 'app/old/', type: 'directory' as const }], [{ name: 'link/x', type: 'file' as const, body: 'x' }], [{ name: 'etc/hosts', type: 'file' as const, body: 'x' }]]) {
      const layer = copyLayer(planTar(entries), root);
      await assert.rejects(read(layer.tar));
      assert.equal(layer.fallback(), true, entries[0]!.name);
    }
  } finally {
    await rm(root, { recursive: true });
  }
});
