import { parseCommandArgs } from '../args.js';
import { humanAgo, humanSize, shortId } from '../format.js';
import { renderTable } from '../table.js';
import type { Command } from '../context.js';

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
}

function splitRepoTag(repoTag: string): [string, string] {
  const colon = repoTag.lastIndexOf(':');
  if (colon <= repoTag.lastIndexOf('/')) return [repoTag, '<none>'];
  return [repoTag.slice(0, colon), repoTag.slice(colon + 1)];
}

/** One row per tag; untagged images show their digest's repository or <none>. */
export function imageRows(images: ImageSummary[], nowMs = Date.now()): string[][] {
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  const sorted = [...images].sort((a, b) => (b.Created ?? 0) - (a.Created ?? 0));
  for (const img of sorted) {
    const tail = [shortId(img.Id), img.Created ? humanAgo(img.Created, nowMs) : 'N/A', humanSize(img.Size ?? 0)];
    const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    if (tags.length > 0) {
      for (const tag of tags) rows.push([...splitRepoTag(tag), ...tail]);
      continue;
    }
    const digest = (img.RepoDigests ?? []).find((d) => d !== '<none>@<none>');
    rows.push([digest ? digest.slice(0, digest.indexOf('@')) : '<none>', '<none>', ...tail]);
  }
  return rows;
}

export const imagesCommand: Command = async (ctx, args) => {
  const { values } = parseCommandArgs('images', args, {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const images = await ctx.api.json<ImageSummary[]>('GET', '/images/json', { query: { all: values['all'] === true } });
  if (values['quiet']) {
    const seen = new Set<string>();
    for (const row of imageRows(images).slice(1)) {
      if (seen.has(row[2]!)) continue;
      seen.add(row[2]!);
      ctx.stdout.write(`${row[2]}\n`);
    }
    return 0;
  }
  ctx.stdout.write(renderTable(imageRows(images)));
  return 0;
};
