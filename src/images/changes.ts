// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an
// image's container config. Only the instructions Docker allows there are accepted.
import { InvalidParameterError } from '../errors.js';
import type { ImageContainerConfig } from './types.js';

const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

function parseJsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // shell form after all
  }
  return undefined;
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1);
  return s;
}

/** Split 'a=1 "b=two words"' into key/value pairs; 'KEY value' (legacy form) when there is no '='. */
function parseKeyValues(rest: string, instr: string): [string, string][] {
  const words: string[] = rest.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  if (words.length === 0) throw new InvalidParameterError(`${instr} requires at least one argument`);
  const first = words[0];
  if (!first.includes('=')) {
    const sp = rest.search(/\s/);
    if (sp === -1) throw new InvalidParameterError(`${instr} requires at least two arguments`);
    return [[first, rest.slice(sp).trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameterError(`${instr} names can not be blank`);
    return [w.slice(0, i), unquote(w.slice(i + 1))];
  });
}

function shellOrExec(rest: string): string[] {
  return parseJsonArray(rest) ?? ['/bin/sh', '-c', rest];
}

export function applyChanges(base: ImageContainerConfig, changes: string[]): ImageContainerConfig {
  const cfg: ImageContainerConfig = { ...base };
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const m = /^(\S+)\s*(.*)$/s.exec(trimmed)!;
      const instr = m[1].toUpperCase();
      const rest = m[2].trim();
      if (!ALLOWED.has(instr)) throw new InvalidParameterError(`${m[1].toLowerCase()} is not a valid change command`);
      switch (instr) {
        case 'CMD':
          cfg.Cmd = shellOrExec(rest);
          break;
        case 'ENTRYPOINT':
          cfg.Entrypoint = rest === '' ? null : shellOrExec(rest);
          break;
        case 'ENV': {
          const env = [...(cfg.Env ?? [])];
          for (const [k, v] of parseKeyValues(rest, 'ENV')) {
            const i = env.findIndex((e) => e.split('=')[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          cfg.Env = env;
          break;
        }
        case 'LABEL':
          cfg.Labels = { ...(cfg.Labels ?? {}) };
          for (const [k, v] of parseKeyValues(rest, 'LABEL')) cfg.Labels[unquote(k)] = v;
          break;
        case 'EXPOSE':
          cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
          for (const p of rest.split(/\s+/).filter(Boolean)) cfg.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
          break;
        case 'VOLUME':
          cfg.Volumes = { ...(cfg.Volumes ?? {}) };
          for (const v of parseJsonArray(rest) ?? rest.split(/\s+/).filter(Boolean)) cfg.Volumes[v] = {};
          break;
        case 'WORKDIR':
          cfg.WorkingDir = rest.startsWith('/') ? rest : `${cfg.WorkingDir ?? '/'}/${rest}`.replace(/\/+/g, '/');
          break;
        case 'USER':
          cfg.User = rest;
          break;
        case 'STOPSIGNAL':
          cfg.StopSignal = rest;
          break;
        case 'ONBUILD':
          cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
          break;
        case 'HEALTHCHECK':
          if (rest.toUpperCase() === 'NONE') cfg.Healthcheck = { Test: ['NONE'] };
          else {
            const cmd = rest.replace(/^CMD\s+/i, '');
            const exec = parseJsonArray(cmd);
            cfg.Healthcheck = { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', cmd] };
          }
          break;
      }
    }
  }
  return cfg;
}
