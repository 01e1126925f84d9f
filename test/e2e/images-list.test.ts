// `docker images` and GET /images/json as Docker 28: one entry per image with all its tags,
// untagged images, --digests, each --filter, --format json, and dockerode's listImages.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { daemonForFile, type Daemon } from './harness.js';

interface Summary { Id: string; RepoTags: string[]; RepoDigests: string[]; Labels: Record<string, string> | null; Containers: number; SharedSize: number; Size: number; Created: number }

describe('images list', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();
  let busybox = '';
  let labelled = '';
  let dangling = '';
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(async () => {
    const fx = await d().ensureBusybox();
    await d().dockerOk(['tag', 'busybox:latest', 'bb-alias:1']);
    await d().dockerOk(['tag', 'busybox:latest', 'team/tool:2']);
    busybox = (await d().dockerOk(['inspect', '-f', '{{.Id}}', 'busybox:latest'])).trim();
    const rootfs = await readFile(fx.rootfs);
    // whole seconds apart, so before/since (seconds in `docker images`) order them for sure
    dangling = (await d().dockerOk(['import', '-c', 'LABEL tier=old', '-', 'lbl:1'], { input: rootfs })).trim();
    await sleep(1100);
    labelled = (await d().dockerOk(['import', '-c', 'LABEL tier=web', '-c', 'LABEL team=x', '-', 'lbl:1'], { input: rootfs })).trim();
  });

  const list = async (q = ''): Promise<Summary[]> => {
    const r = await d().api('GET', `/images/json${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json as Summary[];
  };
  const filtered = (filters: Record<string, string[]>, q = '') => list(`?filters=${encodeURIComponent(JSON.stringify(filters))}${q}`);

  test('an image with three tags is one entry carrying all of them; the CLI still prints a row per tag', async () => {
    const all = await list();
    assert.equal(new Set(all.map((i) => i.Id)).size, all.length, JSON.stringify(all));
    const bb = all.find((i) => i.Id === busybox)!;
    assert.deepEqual([...bb.RepoTags].sort(), ['bb-alias:1', 'busybox:latest', 'team/tool:2']);
    assert.equal(bb.Containers, -1);
    assert.equal(bb.SharedSize, -1);
    const q = (await d().dockerOk(['images', '-q', '--no-trunc'])).trim().split('\n');
    // the docker CLI formats a row per tag, -q included: CLI 28 against dockerd prints such an ID once per tag too
    assert.equal(q.filter((id) => id === busybox).length, 3, q.join('\n'));
    const table = await d().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    for (const t of ['bb-alias:1', 'busybox:latest', 'team/tool:2']) assert.match(table, new RegExp(`^${t}$`, 'm'));
  });

  test('untagged image: empty RepoTags/RepoDigests now, <none>:<none> for API 1.42; <none> in the table', async () => {
    const now = (await list()).find((i) => i.Id === dangling)!;
    assert.deepEqual([now.RepoTags, now.RepoDigests], [[], []]);
    const old = ((await d().api('GET', '/v1.42/images/json')).json as (Summary & { VirtualSize: number })[]).find((i) => i.Id === dangling)!;
    assert.deepEqual([old.RepoTags, old.RepoDigests, old.VirtualSize], [['<none>:<none>'], ['<none>@<none>'], old.Size]);
    const table = await d().dockerOk(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}} {{.Tag}}']);
    assert.match(table, new RegExp(`^${dangling} <none> <none>$`, 'm'));
  });

  test('--digests and shared-size', async () => {
    const out = await d().dockerOk(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}']);
    assert.match(out, /^busybox <none>$/m);
    const shared = await list('?shared-size=1');
    // all three share the one busybox layer
    for (const id of [busybox, labelled, dangling]) assert.ok(shared.find((i) => i.Id === id)!.SharedSize > 0, JSON.stringify(shared));
  });

  test('--filter dangling, label, before, since, reference', async () => {
    const ids = async (...filters: string[]) =>
      (await d().dockerOk(['images', '-q', '--no-trunc', ...filters.flatMap((x) => ['--filter', x])])).trim().split('\n').filter(Boolean);
    assert.deepEqual(await ids('dangling=true'), [dangling]);
    assert.ok(!(await ids('dangling=false')).includes(dangling));
    assert.deepEqual(await ids('label=tier=web'), [labelled]);
    assert.deepEqual(new Set(await ids('label=tier')), new Set([labelled, dangling]));
    assert.deepEqual(await ids('label=tier', 'label=team=x'), [labelled]);
    assert.deepEqual(await ids('since=' + dangling.slice(7, 19)), [labelled]);
    assert.ok((await ids('before=lbl:1')).includes(dangling));
    assert.ok(!(await ids('before=lbl:1')).includes(labelled));
    assert.deepEqual(await ids('reference=team/*'), [busybox]);
    assert.deepEqual(await ids('reference=bb-al*:1'), [busybox]);
    // only the matching tags are listed
    assert.deepEqual((await filtered({ reference: ['busybox'] })).map((i) => i.RepoTags), [['busybox:latest']]);
    // the CLI's positional argument is a reference filter
    assert.equal((await d().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}', 'team/tool'])).trim(), 'team/tool:2');
  });

  test('bad filters get moby 28\'s errors', async () => {
    const bad = async (filters: Record<string, string[]>) => {
      const r = await d().api('GET', `/images/json?filters=${encodeURIComponent(JSON.stringify(filters))}`);
      return [r.status, (r.json as { message: string }).message];
    };
    assert.deepEqual(await bad({ dangling: ['maybe'] }), [400, "invalid filter 'dangling=[maybe]'"]);
    assert.deepEqual(await bad({ color: ['red'] }), [400, "invalid filter 'color'"]);
    assert.deepEqual(await bad({ before: ['no-such-image'] }), [404, 'No such image: no-such-image:latest']);
    const cli = await d().docker(['images', '--filter', 'dangling=maybe']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /invalid filter 'dangling=\[maybe\]'/);
  });

  test('--format json and dockerode listImages', async () => {
    const lines = (await d().dockerOk(['images', '--format', '{{json .}}'])).trim().split('\n').map((l) => JSON.parse(l));
    const row = lines.find((l) => l.Repository === 'team/tool')!;
    assert.equal(row.Tag, '2');
    assert.equal(row.ID, busybox.slice(7, 19));
    assert.equal(row.Containers, 'N/A');
    const docker = new Docker({ socketPath: d().socket });
    const imgs = await docker.listImages({ filters: { label: ['tier=web'] } });
    assert.equal(imgs.length, 1);
    assert.equal(imgs[0]!.Id, labelled);
    assert.deepEqual(imgs[0]!.RepoTags, ['lbl:1']);
    assert.deepEqual(imgs[0]!.Labels, { tier: 'web', team: 'x' });
    const all = await docker.listImages({ all: true });
    assert.equal(all.filter((i) => i.Id === busybox).length, 1);
  });
});
