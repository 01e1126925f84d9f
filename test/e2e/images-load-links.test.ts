// docker load of archives with links (issue 11): moby's load untars the archive and follows
// symlinks inside its root only (FollowSymlinkInScope), so docker save's own links (before 25 a
// layer saved twice is `<id>/layer.tar -> ../<other>/layer.tar`) load, and a link to /etc/shadow
// or out through `..` names the archive's own etc/shadow, never the host's. berth ignored links:
// such archives failed, and nothing said why. ImageService over a real SQLite file in a temp
// data-root, as images-hostile-archive.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ImageService } from '../../src/images/image-service.js';
import { InvalidParameterError } from '../../src/errors.js';
import { imageParts, packToBuffer, type ImageParts } from '../fixtures/image-archive.js';

let work: string;
let db: Database.Database;
let images: ImageService;
let one: ImageParts;
let two: ImageParts;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-load-links-'));
  db = new Database(join(work, 'berth.db'));
  db.pragma('journal_mode = WAL');
  images = new ImageService({ db, root: join(work, 'root'), logger: pino({ level: 'silent' }) });
  const rootfs = await packToBuffer((pack) => {
    pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, 'hello\n');
  });
  // two images sharing their one layer, as docker save writes them with a link
  one = imageParts(rootfs, { cmd: ['one'] });
  two = imageParts(rootfs, { cmd: ['two'] });
});

after(async () => {
  db?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

type Entry = { name: string; body?: Buffer | string; symlink?: string; hardlink?: string };

function archive(entries: Entry[]): Promise<Buffer> {
  return packToBuffer((pack) => {
    for (const e of entries) {
      if (e.symlink !== undefined) pack.entry({ name: e.name, type: 'symlink', linkname: e.symlink });
      else if (e.hardlink !== undefined) pack.entry({ name: e.name, type: 'link', linkname: e.hardlink });
      else pack.entry({ name: e.name }, e.body ?? '');
    }
  });
}

const manifest = (layer2: string, tag2 = 'links:two') =>
  JSON.stringify([
    { Config: 'one.json', RepoTags: ['links:one'], Layers: ['l1/layer.tar'] },
    { Config: 'two.json', RepoTags: [tag2], Layers: [layer2] },
  ]);

/** The names `docker load` reports loaded. */
const load = async (tar: Buffer): Promise<string[]> => {
  const names: string[] = [];
  await images.load(Readable.from([tar]), {
    progress: (m) => {
      const line = (m as { stream?: string }).stream ?? '';
      if (line.startsWith('Loaded image: ')) names.push(line.slice('Loaded image: '.length).trim());
    },
  });
  return names;
};

function invalid(message: RegExp) {
  return (err: Error) => {
    assert.ok(err instanceof InvalidParameterError, `${err.name}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  };
}

describe('docker load: links inside the archive', () => {
  test("docker save's links load: a symlinked layer, a symlinked manifest.json, a hard link, a symlinked dir", async () => {
    const base: Entry[] = [
      { name: 'one.json', body: one.config },
      { name: 'two.json', body: two.config },
      { name: 'l1/layer.tar', body: one.layerGz },
    ];
    assert.deepEqual(await load(await archive([...base, { name: 'l2/layer.tar', symlink: '../l1/layer.tar' }, { name: 'manifest.json', body: manifest('l2/layer.tar') }])), [
      'links:one',
      'links:two',
    ]);
    const viaManifestLink = await archive([...base, { name: 'm/real.json', body: manifest('l1/layer.tar', 'links:m') }, { name: 'manifest.json', symlink: 'm/real.json' }]);
    assert.ok((await load(viaManifestLink)).includes('links:m'));
    const viaHardLink = await archive([...base, { name: 'l2/layer.tar', hardlink: 'l1/layer.tar' }, { name: 'manifest.json', body: manifest('l2/layer.tar', 'links:hard') }]);
    assert.ok((await load(viaHardLink)).includes('links:hard'));
    const viaDirLink = await archive([...base, { name: 'd', symlink: 'l1' }, { name: 'manifest.json', body: manifest('d/layer.tar', 'links:dir') }]);
    assert.ok((await load(viaDirLink)).includes('links:dir'));
  });

  test('a link to a host file names the entry of that name inside the archive, never the host file', async () => {
    const base: Entry[] = [
      { name: 'one.json', body: one.config },
      { name: 'two.json', body: two.config },
      { name: 'l1/layer.tar', body: one.layerGz },
    ];
    for (const target of ['/etc/shadow', '../../../../../../etc/shadow', '/../etc/shadow']) {
      // not in the archive: refused, whatever the host has there
      const missing = await archive([...base, { name: 'l2/layer.tar', symlink: target }, { name: 'manifest.json', body: manifest('l2/layer.tar') }]);
      await assert.rejects(images.load(Readable.from([missing]), { progress: () => undefined }), invalid(/^invalid archive: l2\/layer\.tar referenced but not present$/), target);
      // in the archive: that entry is the one read
      const inside = await archive([...base, { name: 'etc/shadow', body: one.layerGz }, { name: 'l2/layer.tar', symlink: target }, { name: 'manifest.json', body: manifest('l2/layer.tar', 'links:scoped') }]);
      assert.ok((await load(inside)).includes('links:scoped'), target);
    }
    // manifest.json itself a link out of the archive: no manifest at all
    const out = await archive([...base, { name: 'manifest.json', symlink: '/etc/passwd' }]);
    await assert.rejects(images.load(Readable.from([out]), { progress: () => undefined }), invalid(/neither manifest\.json nor index\.json found/));
  });

  test('a symlink loop is refused with a clear error', async () => {
    const tar = await archive([
      { name: 'one.json', body: one.config },
      { name: 'two.json', body: two.config },
      { name: 'l1/layer.tar', body: one.layerGz },
      { name: 'a', symlink: 'b' },
      { name: 'b', symlink: 'a' },
      { name: 'manifest.json', body: manifest('a/layer.tar') },
    ]);
    await assert.rejects(images.load(Readable.from([tar]), { progress: () => undefined }), invalid(/^invalid archive: too many symlinks resolving a\/layer\.tar$/));
  });
});
