import { readFile } from 'node:fs/promises';
import { parseCommandArgs } from '../args.js';
import { API_VERSION } from '../http.js';
import type { Command } from '../context.js';

interface VersionComponent {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: VersionComponent[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  BuildTime?: string;
}

async function clientVersion(): Promise<string> {
  try {
    // dist/cli/client/commands/version.js -> package.json at the project root
    const pkg = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function block(rows: Array<[string, string | undefined]>, indent: string): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${indent}${`${k}:`.padEnd(width)}${v}\n`)
    .join('');
}

export const versionCommand: Command = async (ctx, args) => {
  parseCommandArgs('version', args, {});
  let text = 'Client:\n';
  text += block([
    ['Version', await clientVersion()],
    ['API version', API_VERSION],
    ['Node.js version', process.version],
    ['OS/Arch', `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`],
  ], ' ');
  ctx.stdout.write(text);
  const server = await ctx.api.json<ServerVersion>('GET', '/version');
  let out = `\nServer: ${server.Platform?.Name ?? ''}\n`;
  const components = server.Components?.length
    ? server.Components
    : [{ Name: 'Engine', Version: server.Version ?? '', Details: {} }];
  for (const c of components) {
    out += ` ${c.Name}:\n`;
    const d = c.Details ?? {};
    if (c.Name === 'Engine') {
      out += block([
        ['Version', c.Version],
        ['API version', `${server.ApiVersion ?? d['ApiVersion'] ?? ''}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`],
        ['Go version', server.GoVersion],
        ['Git commit', server.GitCommit],
        ['Built', server.BuildTime],
        ['OS/Arch', server.Os && server.Arch ? `${server.Os}/${server.Arch}` : undefined],
        ['Kernel version', server.KernelVersion],
      ], '  ');
    } else {
      out += block([['Version', c.Version], ...Object.entries(d).map(([k, v]) => [k, v] as [string, string])], '  ');
    }
  }
  ctx.stdout.write(out);
  return 0;
};
