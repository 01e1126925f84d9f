// ADD's own cases (src/images/build/copy): local tar archives unpacked whatever their compression,
// hostile archives confined to the destination, and URLs downloaded from a local HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { planCopy } from '../../src/images/build/copy/plan-copy.js';
import { ArchivePaths } from '../../src/images/build/copy/archive-paths.js';
import { tarOf } from '../fixtures/tar-of.js';
import { byName, planned, req, scratch } from '../fixtures/copy-plan.js';

const add = (ctx: string, sources: string[], dest: string, more = {}) => req(ctx, sources, dest, { isAdd: true, ...more });

async function sampleTar(): Promise<Buffer> {
  return tarOf([
    { header: { name: './', type: 'directory', mode: 0o700 } },
    { header: { name: './bin/', type: 'directory', mode: 0o755, uid: 3, gid: 4 } },
    { header: { name: './bin/tool', mode: 0o4755, uid: 3, gid: 4, mtime: new Date(1_500_000_000_000) }, body: 'tool' },
    { header: { name: './bin/alias', type: 'symlink', linkname: 'tool' } },
    { header: { name: './bin/same', type: 'link', linkname: './bin/tool' } },
  ]);
}

test('ADD of a local tar unpacks it at dest, plain or gzip, bzip2, xz, zstd compressed, with its owners and modes', () =>
  scratch(async (dir) => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    const plain = await sampleTar();
    await writeFile(join(ctx, 'plain.bin'), plain);
    await writeFile(join(ctx, 'g.tgz'), gzipSync(plain));
    for (const [tool, name] of [['bzip2', 'b.tar.bz2'], ['xz', 'x.tar.xz'], ['zstd', 'z.tar.zst']] as const) {
      await writeFile(join(ctx, name), execFileSync(tool, ['-c'], { input: plain }));
    }
    for (const name of ['plain.bin', 'g.tgz', 'b.tar.bz2', 'x.tar.xz', 'z.tar.zst']) {
      const e = byName(await planned(add(ctx, [name], '/opt', { chown: { uid: 9, gid: 9 } })));
      assert.deepEqual([...e.keys()], ['opt/', 'opt/bin/', 'opt/bin/tool', 'opt/bin/alias', 'opt/bin/same'], name);
      // the archive's owners stay (moby's untar; --chown is for copied files), the dest is root's
      assert.equal(e.get('opt/')!.uid, 0);
      assert.deepEqual([e.get('opt/bin/tool')!.uid, e.get('opt/bin/tool')!.mode, e.get('opt/bin/tool')!.body], [3, 0o4755, 'tool'], name);
      assert.equal(e.get('opt/bin/tool')!.mtime, 1_500_000_000);
      assert.equal(e.get('opt/bin/alias')!.linkname, 'tool');
      assert.equal(e.get('opt/bin/same')!.linkname, 'opt/bin/tool');
    }
    // without the system's decompressor ADD fails plainly instead of copying the archive unopened
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(planned(add(ctx, ['b.tar.bz2'], '/opt')), /cannot run bzip2 to decompress bzip2 data: ENOENT/);
    } finally {
      process.env.PATH = path;
    }
    // COPY never unpacks; nor does ADD of something that only looks compressed
    assert.deepEqual((await planned(req(ctx, ['g.tgz'], '/c/'))).map((x) => x.name), ['c/', 'c/g.tgz']);
    await writeFile(join(ctx, 'notar.gz'), gzipSync(Buffer.from('just text, no tar header here'.repeat(40))));
    await writeFile(join(ctx, 'text'), 'x'.repeat(2000));
    assert.deepEqual((await planned(add(ctx, ['notar.gz', 'text'], '/c/'))).map((x) => x.name), ['c/', 'c/notar.gz', 'c/text']);
  }));

test('a hostile archive: .. entries stay under dest, the symlinks it plants lead within dest', () =>
  scratch(async (dir) => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'dots.tar'), await tarOf([
      { header: { name: '../../etc/passwd' }, body: 'x' },
      { header: { name: '/abs/file' }, body: 'y' },
      { header: { name: 'h', type: 'link', linkname: '../../etc/passwd' } },
    ]));
    const e = (await planned(add(ctx, ['dots.tar'], '/dest'))).map((x) => [x.name, x.linkname]);
    assert.deepEqual(e, [['dest/', null], ['dest/etc/passwd', null], ['dest/abs/file', null], ['dest/h', 'dest/etc/passwd']]);
    await writeFile(join(ctx, 'planted.tar'), await tarOf([
      { header: { name: 'l', type: 'symlink', linkname: '/etc' } },
      { header: { name: 'l/passwd' }, body: 'owned' },
    ]));
    // followed as in moby's chroot at dest: the archive's /etc is dest/etc, never the image's
    const p = (await planned(add(ctx, ['planted.tar'], '/dest'))).map((x) => [x.name, x.type, x.linkname]);
    assert.deepEqual(p, [['dest/', 'directory', null], ['dest/l', 'symlink', '/etc'], ['dest/etc/passwd', 'file', null]]);
    // a PAX record tar-stream would hold whole in memory
    await writeFile(join(ctx, 'pax.tar'), await tarOf([{ header: { name: 'f', pax: { comment: 'x'.repeat(2 * 1024 * 1024) } }, body: 'f' }]));
    await assert.rejects(planned(add(ctx, ['pax.tar'], '/dest')), /invalid archive: invalid tar header: a \d+-byte metadata record/);
    await writeFile(join(ctx, 'cut.tar'), (await sampleTar()).subarray(0, 1100));
    await assert.rejects(planned(add(ctx, ['cut.tar'], '/dest')), /invalid archive/);
  }));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('ADD of a URL: named from the path, mode 0600, mtime from Last-Modified, never unpacked; Docker words for failures', () =>
  scratch(async (dir) => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    const tarBody = gzipSync(await sampleTar());
    const { server, base } = await serve((rq, res) => {
      if (rq.url === '/files/app.tgz') {
        res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
        res.end(tarBody);
      } else if (rq.url === '/dir/') {
        res.writeHead(200, { 'Content-Disposition': 'attachment; filename="named.txt"' });
        res.end('disposition');
      } else if (rq.url === '/plain') {
        res.end('no date');
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('no such thing\n');
      }
    });
    try {
      const scratchDir = join(dir, 'downloads');
      await mkdir(scratchDir);
      const plan = await planCopy(add(ctx, [`${base}/files/app.tgz`], '/srv/', { scratchDir, chown: { uid: 5, gid: 6 } }));
      assert.match(plan.checksum, /^[0-9a-f]{64}$/); // moby: a URL's checksum has no kind
      const { entriesOf } = await import('../fixtures/copy-plan.js');
      const e = await entriesOf(await plan.tar());
      assert.deepEqual(e.map((x) => [x.name, x.type, x.mode, x.uid, x.gid, x.mtime]), [
        ['srv/', 'directory', 0o755, 5, 6, e[0]!.mtime],
        ['srv/app.tgz', 'file', 0o600, 5, 6, Date.parse('2015-10-21T07:28:00Z') / 1000],
      ]);
      assert.equal((await readdir(scratchDir)).length, 1);
      await plan.release();
      assert.deepEqual(await readdir(scratchDir), []);
      // the download's progress as moby reports it: 'Downloading' with no id, then a blank line
      const messages: unknown[] = [];
      await planned(add(ctx, [`${base}/plain`], '/p', { progress: (m: unknown) => messages.push(JSON.parse(JSON.stringify(m))) }));
      assert.deepEqual(messages.at(-1), { stream: '\n' });
      assert.deepEqual(messages[0], { status: 'Downloading', progressDetail: { current: 7, total: 7 }, progress: '[==================================================>]       7B/7B' });
      const d = await planned(add(ctx, [`${base}/dir/`], '/x/'));
      assert.deepEqual(d.map((x) => [x.name, x.body]), [['x/', ''], ['x/named.txt', 'disposition']]);
      const p = await planned(add(ctx, [`${base}/plain`], '/p'));
      assert.deepEqual(p.map((x) => [x.name, x.mtime]), [['p', 0]]);
      await assert.rejects(planned(add(ctx, [`${base}/missing`], '/')), {
        name: 'NotFoundError',
        message: `ADD failed: failed to GET ${base}/missing with status 404 Not Found: no such thing`,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // a port nothing listens on any more (port 1 or 6000 would do too: no fetch()'s blocked-port list here)
    const closed = Number(new URL(base).port);
    await assert.rejects(planned(add(ctx, [`http://127.0.0.1:${closed}/x`], '/')), {
      message: `ADD failed: Get "http://127.0.0.1:${closed}/x": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  }));

test('ADD of a URL whose last path element decodes to .. or holds %2f: the name never leaves dest', () =>
  scratch(async (dir) => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    const { server, base } = await serve((_rq, res) => res.end('body'));
    try {
      const scratchDir = join(dir, 'downloads');
      await mkdir(scratchDir);
      // an escaped slash: the name is the last element of the decoded path
      const slash = await planned(add(ctx, [`${base}/x/a%2fb`], '/dst/', { scratchDir }));
      assert.deepEqual(slash.map((x) => [x.name, x.body]), [['dst/', ''], ['dst/b', 'body']]);
      // an escaped `..` (or `.`) names no file: with a dest dir that is Docker's "cannot determine filename"
      for (const tail of ['a%2f..', 'a%2f%2e%2e', 'a%2F.', '..%2f..%2f..']) {
        await assert.rejects(planned(add(ctx, [`${base}/x/${tail}`], '/dst/', { scratchDir })), {
          name: 'InvalidParameterError',
          message: new RegExp(`cannot determine filename for source ${base}/x/${tail}`),
        }, tail);
      }
      // a dest that names the file takes the download whatever the URL
      const named = await planned(add(ctx, [`${base}/x/a%2f..`], '/dst/file', { scratchDir }));
      assert.deepEqual(named.map((x) => [x.name, x.body]), [['dst/', ''], ['dst/file', 'body']]);
      // WHATWG URLs resolve an unescaped or %2e-spelled `..` before the request (Go's do not: moby then fails on `<tmp>/..`)
      const dotted = await planned(add(ctx, [`${base}/x/%2e%2e`], '/dst/', { scratchDir })).catch((e: Error) => e);
      assert.ok(dotted instanceof Error && /cannot determine filename/.test(dotted.message), String(dotted));
      // nothing was written next to the downloads' own dirs
      assert.deepEqual(await readdir(scratchDir), []);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }));

test("an archive's paths: confined to dest, its own links followed within dest, the last component never followed", () => {
  const p = new ArchivePaths();
  assert.equal(p.resolve('../../etc/passwd'), 'etc/passwd');
  p.made('abs', '/etc');
  p.made('sub/up', '../../../var');
  p.made('sub/rel', 'real');
  p.made('loop', 'loop');
  assert.equal(p.resolve('abs/passwd'), 'etc/passwd');
  assert.equal(p.resolve('sub/up/log/x'), 'var/log/x');
  assert.equal(p.resolve('sub/rel/f'), 'sub/real/f');
  assert.equal(p.resolve('abs'), 'abs');
  assert.throws(() => p.resolve('loop/x'), /too many levels of symbolic links/);
  p.made('abs'); // replaced by a directory
  assert.equal(p.resolve('abs/passwd'), 'abs/passwd');
});
