// Lookups inside a container root (src/util/in-root) against hostile trees, and the archive
// code built on them against a container that swaps directories for symlinks while a copy runs
// (security review §2/§3: the PoCs, made deterministic by swapping mid-stream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { RootDir } from '../../src/util/in-root/root-dir.js';
import { tarOf } from '../fixtures/tar-of.js';
import { extractInto } from '../../src/engine/archive/extract-into.js';
import { packPath, packTree } from '../../src/engine/archive/pack-path.js';

async function scratch(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-in-root-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const makeTar = (entries: [Partial<tar.Header> & { name: string }, string | Buffer][]) => tarOf(entries.map(([header, body]) => ({ header, body })));

async function resolved(root: string, path: string, opts: { followLast?: boolean; create?: boolean } = {}): Promise<string> {
  return RootDir.with(root, async (r) => {
    const at = await r.resolve(path, { followLast: opts.followLast ?? true, create: opts.create });
    await at.close();
    return at.path;
  });
}

test('symlinks and .. are resolved inside the root, never on the host', () =>
  scratch(async (root) => {
    await mkdir(join(root, 'etc'));
    await mkdir(join(root, 'data/sub'), { recursive: true });
    await writeFile(join(root, 'etc/passwd'), 'container');
    await symlink('/etc', join(root, 'abs'));
    await symlink('../../../../..', join(root, 'data/up'));
    await symlink('/', join(root, 'slash'));
    await symlink('sub', join(root, 'data/rel'));
    await symlink('chain2', join(root, 'chain1'));
    await symlink('/abs/passwd', join(root, 'chain2'));
    await symlink('loop2', join(root, 'loop1'));
    await symlink('loop1', join(root, 'loop2'));
    assert.equal(await resolved(root, '/abs/passwd'), '/etc/passwd');
    assert.equal(await resolved(root, '/data/up/etc/passwd'), '/etc/passwd');
    assert.equal(await resolved(root, '/slash/../../etc'), '/etc');
    assert.equal(await resolved(root, '../../../etc/shadow'), '/etc/shadow');
    assert.equal(await resolved(root, '/data/rel/x'), '/data/sub/x');
    assert.equal(await resolved(root, '/chain1'), '/etc/passwd');
    assert.equal(await resolved(root, '/chain1', { followLast: false }), '/chain1');
    assert.equal(await resolved(root, '/'), '/');
    await assert.rejects(resolved(root, '/loop1'), /too many levels of symbolic links/);
    await assert.rejects(resolved(root, '/etc/passwd/x'), /\/etc\/passwd: not a directory/);
    assert.equal(await resolved(root, '/new/dir/deep', { create: true }), '/new/dir/deep');
    assert.ok(statSync(join(root, 'new/dir/deep')).isDirectory());
    assert.equal(await resolved(root, '/abs/made', { create: true }), '/etc/made');
    assert.ok(statSync(join(root, 'etc/made')).isDirectory());
  }));

test('cp into a running container: swapping the parent for a host symlink mid-copy changes no host file (review §2)', () =>
  scratch(async (base) => {
    const root = join(base, 'root');
    const hostEtc = join(base, 'host-etc');
    mkdirSync(join(root, 'app/d'), { recursive: true });
    mkdirSync(hostEtc);
    writeFileSync(join(hostEtc, 'f'), 'host secret\n', { mode: 0o600 });
    const tarBuf = await makeTar([
      [{ name: 'd/f', size: 4096, mode: 0o4777, uid: 1234, gid: 1234 }, Buffer.alloc(4096, 0x41)],
      [{ name: 'd/g', size: 1, mode: 0o666 }, 'g'],
      [{ name: 'd/', type: 'directory', mode: 0o777, mtime: new Date('1999-01-01T00:00:00Z') }, ''],
    ]);
    const before = statSync(join(hostEtc, 'f'));
    await RootDir.with(root, async (r) => {
      const src = new PassThrough();
      const done = extractInto(r, '/app', src, { noOverwriteDirNonDir: false });
      // header and part of the data: the daemon has created app/d/f and is writing it
      src.write(tarBuf.subarray(0, 612));
      await new Promise((res) => setTimeout(res, 50));
      // "the container": swap the directory for a link to a host directory
      renameSync(join(root, 'app/d'), join(root, 'app/d.old'));
      symlinkSync(hostEtc, join(root, 'app/d'));
      src.end(tarBuf.subarray(612));
      await done.catch(() => undefined);
    });
    const after = statSync(join(hostEtc, 'f'));
    assert.equal(after.mode & 0o7777, 0o600, 'host file mode unchanged');
    assert.equal(after.uid, before.uid, 'host file owner unchanged');
    assert.equal(await readFile(join(hostEtc, 'f'), 'utf8'), 'host secret\n');
    assert.ok(!statSync(join(hostEtc)).mtime.toISOString().startsWith('1999'), 'host dir times untouched');
    // the file went where the container's tree had it when it was created
    const written = statSync(join(root, 'app/d.old/f'));
    assert.equal(written.mode & 0o7777, 0o4777);
    assert.equal(written.uid, 1234);
  }));

test('cp into a container: an existing entry swapped for a host symlink is replaced, not followed', () =>
  scratch(async (base) => {
    const root = join(base, 'root');
    const hostDir = join(base, 'host');
    mkdirSync(join(root, 'app/data'), { recursive: true });
    mkdirSync(hostDir, { mode: 0o700 });
    writeFileSync(join(hostDir, 'keep'), 'x');
    // the container made app/data a link to the host dir (as a running one can, any time)
    await rm(join(root, 'app/data'), { recursive: true });
    symlinkSync(hostDir, join(root, 'app/data'));
    const tarBuf = await makeTar([[{ name: 'data/', type: 'directory', mode: 0o777 }, '']]);
    await RootDir.with(root, (r) => extractInto(r, '/app', Readable_from(tarBuf), { noOverwriteDirNonDir: false }));
    assert.equal(statSync(hostDir).mode & 0o777, 0o700, 'host dir mode unchanged');
    assert.ok(statSync(join(hostDir, 'keep')).isFile(), 'host dir content untouched');
    assert.ok(statSync(join(root, 'app/data')).isDirectory());
  }));

function Readable_from(buf: Buffer): Readable {
  const s = new PassThrough();
  s.end(buf);
  return s;
}

async function tarEntries(stream: Readable): Promise<{ name: string; type: string; body: string }[]> {
  const out: { name: string; type: string; body: string }[] = [];
  const extract = tar.extract();
  stream.pipe(extract);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? '', body: Buffer.concat(chunks).toString() });
  }
  return out;
}

test('cp out of a running container: a directory swapped for a host symlink mid-walk archives no host file (review §3)', () =>
  scratch(async (base) => {
    const root = join(base, 'root');
    const hostDir = join(base, 'host');
    mkdirSync(join(root, 'x/dir'), { recursive: true });
    mkdirSync(hostDir);
    writeFileSync(join(root, 'x/dir/a-big'), Buffer.alloc(1 << 20, 0x61));
    writeFileSync(join(root, 'x/dir/shadow'), 'decoy\n');
    writeFileSync(join(hostDir, 'shadow'), 'root:$6$HOSTHASH:19000:0:99999:7:::\n');
    execFileSync('mkfifo', [join(hostDir, 'fifo')]);
    const entries = await RootDir.with(root, async (r) => {
      const out = packPath(await r.resolve('/x/dir', { followLast: false }), 'dir');
      const extract = tar.extract();
      const seen: { name: string; body: string }[] = [];
      let swapped = false;
      out.tar.pipe(extract);
      for await (const e of extract) {
        const chunks: Buffer[] = [];
        for await (const c of e) {
          chunks.push(c as Buffer);
          if (!swapped) {
            // "the container", while a-big streams
            swapped = true;
            renameSync(join(root, 'x/dir'), join(root, 'x/dir.old'));
            symlinkSync(hostDir, join(root, 'x/dir'));
          }
        }
        seen.push({ name: e.header.name, body: Buffer.concat(chunks).toString() });
      }
      await out.released;
      return seen;
    });
    assert.deepEqual(entries.map((e) => e.name), ['dir/', 'dir/a-big', 'dir/shadow']);
    assert.equal(entries[2]!.body, 'decoy\n');
    assert.ok(!entries.some((e) => e.body.includes('HOSTHASH')));
  }));

test('export: FIFOs and devices become headers and are never opened; hard links stay links', () =>
  scratch(async (root) => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'p');
    execFileSync('mkfifo', [join(root, 'etc/fifo')]);
    execFileSync('mknod', [join(root, 'etc/zero'), 'c', '1', '5']);
    execFileSync('ln', [join(root, 'etc/passwd'), join(root, 'etc/passwd-link')]);
    symlinkSync('/etc/shadow', join(root, 'shadow'));
    const entries = await RootDir.with(root, async (r) => {
      const out = packTree(r);
      const e = await tarEntries(out.tar);
      await out.released;
      return e;
    });
    assert.deepEqual(
      entries.map((e) => [e.name, e.type]),
      [
        ['etc/', 'directory'],
        ['etc/fifo', 'fifo'],
        ['etc/passwd', 'file'],
        ['etc/passwd-link', 'link'],
        ['etc/zero', 'character-device'],
        ['shadow', 'symlink'],
      ],
    );
    assert.ok((await stat(join(root, 'etc/fifo'))).isFIFO());
  }));
