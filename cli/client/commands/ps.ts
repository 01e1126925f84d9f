import { parseCommandArgs } from '../args.js';
import { ellipsis, humanAgo, shortId } from '../format.js';
import { renderTable } from '../table.js';
import type { Command } from '../context.js';

export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  Command?: string;
  Created?: number;
  Status?: string;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
}

/** docker ps shows names without the leading '/' and hides link aliases (names with another '/'). */
export function displayNames(names: string[] | undefined): string {
  return (names ?? []).map((n) => (n.startsWith('/') ? n.slice(1) : n)).filter((n) => !n.includes('/')).join(',');
}

export function displayImage(image: string | undefined): string {
  if (!image) return '';
  if (image.startsWith('sha256:')) return shortId(image);
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(0, at) : image;
}

export function displayPorts(ports: ContainerSummary['Ports']): string {
  return (ports ?? [])
    .map((p) => {
      if (!p.PublicPort) return `${p.PrivatePort}/${p.Type}`;
      const ip = p.IP ? (p.IP.includes(':') ? `[${p.IP}]:` : `${p.IP}:`) : '';
      return `${ip}${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    })
    .join(', ');
}

export function psRows(containers: ContainerSummary[], nowMs = Date.now()): string[][] {
  const rows = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']];
  for (const c of containers) {
    rows.push([
      shortId(c.Id),
      displayImage(c.Image),
      JSON.stringify(ellipsis(c.Command ?? '', 20)),
      c.Created ? humanAgo(c.Created, nowMs) : '',
      c.Status ?? '',
      displayPorts(c.Ports),
      displayNames(c.Names),
    ]);
  }
  return rows;
}

export const psCommand: Command = async (ctx, args) => {
  const { values } = parseCommandArgs('ps', args, {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const containers = await ctx.api.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: values['all'] === true } });
  if (values['quiet']) {
    ctx.stdout.write(containers.map((c) => `${shortId(c.Id)}\n`).join(''));
    return 0;
  }
  ctx.stdout.write(renderTable(psRows(containers)));
  return 0;
};
