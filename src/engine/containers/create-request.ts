// Turns a POST /containers/create body into a validated Config and HostConfig, as moby's
// decoder and daemon/create.go would, with Docker's messages for bad input.
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors.js';
import type { ImageContainerConfig } from '../../images/types.js';
import type { ContainerConfig, HostConfig, RestartPolicy } from './model.js';
import { validateRestartPolicy } from '../lifecycle/resources.js';
import { validateLogConfig } from '../logs/config.js';
import { type Json, wrongFieldType as wrongType } from '../go-json.js';


function str(obj: Json, key: string, field: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw wrongType(field, v, 'string');
  return v;
}

function bool(obj: Json, key: string, field: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw wrongType(field, v, 'bool');
  return v;
}

function int(obj: Json, key: string, field: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(field, v, 'int');
  return v;
}

/** StrSlice: a JSON string is one element (not shell-split), an array of strings as is. */
function strSlice(obj: Json, key: string, field: string): string[] | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw wrongType(field, v, 'strslice.StrSlice');
}

function strList(obj: Json, key: string, field: string): string[] | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw wrongType(field, v, '[]string');
}

function strMap(obj: Json, key: string, field: string): Record<string, string> | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'object' && !Array.isArray(v) && Object.values(v as Json).every((x) => typeof x === 'string')) {
    return v as Record<string, string>;
  }
  throw wrongType(field, v, 'map[string]string');
}

function object(v: unknown, field: string, want: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, v, want);
  return v as Json;
}

function restartPolicy(hc: Json): RestartPolicy {
  const rp = object(hc.RestartPolicy, 'HostConfig.RestartPolicy', 'container.RestartPolicy');
  const name = str(rp, 'Name', 'RestartPolicy.Name') as RestartPolicy['Name'];
  const max = int(rp, 'MaximumRetryCount', 'RestartPolicy.MaximumRetryCount') ?? 0;
  // moby's create makes an empty name `no` before it validates
  validateRestartPolicy({ Name: name || 'no', MaximumRetryCount: max });
  return { Name: name, MaximumRetryCount: max };
}

/** moby translateWorkingDir: absolute, and stored as filepath.Clean makes it. */
function workingDir(dir: string): string {
  if (!dir) return dir;
  if (!dir.startsWith('/')) throw new InvalidParameterError(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  const clean = posix.normalize(dir);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

/** moby validateHealthCheck: durations (ns) of 0 or at least containertypes.MinimumDuration (1ms). */
function validateHealthcheck(hc: Json | undefined): void {
  if (!hc) return;
  const ns = (key: string) => int(hc, key, `HealthConfig.${key}`) ?? 0;
  for (const key of ['Interval', 'Timeout']) {
    const v = ns(key);
    if (v !== 0 && v < 1_000_000) throw new InvalidParameterError(`${key} in Healthcheck cannot be less than 1ms`);
  }
  if (ns('Retries') < 0) throw new InvalidParameterError('Retries in Healthcheck cannot be negative');
  for (const key of ['StartPeriod', 'StartInterval']) {
    const v = ns(key);
    if (v !== 0 && v < 1_000_000) throw new InvalidParameterError(`${key} in Healthcheck cannot be less than 1ms`);
  }
}

export interface CreateRequest {
  config: Omit<ContainerConfig, keyof ImageContainerConfig> & ImageContainerConfig;
  hostConfig: HostConfig;
  /** The body's NetworkingConfig as sent; src/engine/networks validates it. */
  networkingConfig: unknown;
}

/** Validates the body's shape. The image's defaults are merged later, by mergeImageConfig. */
export function parseCreateRequest(body: unknown): CreateRequest {
  const b = object(body, 'Config', 'container.Config');
  const hc = object(b.HostConfig, 'Config.HostConfig', 'container.HostConfig');
  const healthcheck = b.Healthcheck === undefined || b.Healthcheck === null ? undefined : object(b.Healthcheck, 'Config.Healthcheck', 'container.HealthConfig');
  const config = {
    Hostname: str(b, 'Hostname', 'Config.Hostname'),
    Domainname: str(b, 'Domainname', 'Config.Domainname'),
    User: str(b, 'User', 'Config.User'),
    AttachStdin: bool(b, 'AttachStdin', 'Config.AttachStdin'),
    AttachStdout: bool(b, 'AttachStdout', 'Config.AttachStdout'),
    AttachStderr: bool(b, 'AttachStderr', 'Config.AttachStderr'),
    Tty: bool(b, 'Tty', 'Config.Tty'),
    OpenStdin: bool(b, 'OpenStdin', 'Config.OpenStdin'),
    StdinOnce: bool(b, 'StdinOnce', 'Config.StdinOnce'),
    Env: strList(b, 'Env', 'Config.Env') ?? [],
    Cmd: strSlice(b, 'Cmd', 'Config.Cmd'),
    Entrypoint: strSlice(b, 'Entrypoint', 'Config.Entrypoint'),
    Image: str(b, 'Image', 'Config.Image'),
    WorkingDir: str(b, 'WorkingDir', 'Config.WorkingDir'),
    Labels: strMap(b, 'Labels', 'Config.Labels') ?? {},
    StopSignal: str(b, 'StopSignal', 'Config.StopSignal') || undefined,
    StopTimeout: int(b, 'StopTimeout', 'Config.StopTimeout'),
    ExposedPorts: b.ExposedPorts ? (object(b.ExposedPorts, 'Config.ExposedPorts', 'nat.PortSet') as Record<string, object>) : undefined,
    Volumes: b.Volumes ? (object(b.Volumes, 'Config.Volumes', 'map[string]struct {}') as Record<string, object>) : undefined,
    Healthcheck: healthcheck as ImageContainerConfig['Healthcheck'],
    ArgsEscaped: bool(b, 'ArgsEscaped', 'Config.ArgsEscaped') || undefined,
    Shell: strSlice(b, 'Shell', 'Config.Shell') ?? undefined,
  };
  config.WorkingDir = workingDir(config.WorkingDir);
  for (const e of config.Env) {
    if (e.startsWith('=') || e === '') throw new InvalidParameterError(`invalid environment variable: ${e}`);
  }
  validateHealthcheck(healthcheck);
  const logConfig = object(hc.LogConfig, 'HostConfig.LogConfig', 'container.LogConfig');
  const consoleSize = hc.ConsoleSize;
  if (consoleSize !== undefined && consoleSize !== null && !(Array.isArray(consoleSize) && consoleSize.length === 2 && consoleSize.every((n) => Number.isInteger(n) && n >= 0))) {
    throw wrongType('HostConfig.ConsoleSize', consoleSize, '[2]uint');
  }
  const hostConfig: HostConfig = {
    ...hc,
    Binds: strList(hc, 'Binds', 'HostConfig.Binds'),
    NetworkMode: str(hc, 'NetworkMode', 'HostConfig.NetworkMode'),
    AutoRemove: bool(hc, 'AutoRemove', 'HostConfig.AutoRemove'),
    RestartPolicy: restartPolicy(hc),
    LogConfig: { Type: str(logConfig, 'Type', 'LogConfig.Type'), Config: strMap(logConfig, 'Config', 'LogConfig.Config') ?? {} },
    Privileged: bool(hc, 'Privileged', 'HostConfig.Privileged'),
    CapAdd: strList(hc, 'CapAdd', 'HostConfig.CapAdd'),
    CapDrop: strList(hc, 'CapDrop', 'HostConfig.CapDrop'),
    SecurityOpt: strList(hc, 'SecurityOpt', 'HostConfig.SecurityOpt'),
    ReadonlyRootfs: bool(hc, 'ReadonlyRootfs', 'HostConfig.ReadonlyRootfs'),
    Runtime: str(hc, 'Runtime', 'HostConfig.Runtime'),
    ConsoleSize: (Array.isArray(consoleSize) ? consoleSize : [0, 0]) as [number, number],
  };
  if (hostConfig.AutoRemove && hostConfig.RestartPolicy.Name !== '' && hostConfig.RestartPolicy.Name !== 'no') {
    throw new InvalidParameterError(`can't create 'AutoRemove' container with restart policy`);
  }
  hostConfig.LogConfig.Type = validateLogConfig(hostConfig.LogConfig);
  return { config, hostConfig, networkingConfig: b.NetworkingConfig };
}

/** moby's merge(): the image supplies what the user left out. */
export function mergeImageConfig(user: CreateRequest['config'], image: ImageContainerConfig | undefined): ContainerConfig {
  const img = image ?? {};
  const merged: ContainerConfig = { ...user } as ContainerConfig;
  if (!merged.User && img.User) merged.User = img.User;
  if (merged.Env.length === 0) {
    merged.Env = [...(img.Env ?? [])];
  } else {
    const keys = new Set(merged.Env.map((e) => e.split('=')[0]));
    for (const e of img.Env ?? []) if (!keys.has(e.split('=')[0])) merged.Env.push(e);
  }
  if (!user.Entrypoint || user.Entrypoint.length === 0) {
    if (!user.Cmd || user.Cmd.length === 0) {
      merged.Cmd = img.Cmd ?? null;
      if (img.ArgsEscaped) merged.ArgsEscaped = img.ArgsEscaped;
    }
    if (user.Entrypoint === null) merged.Entrypoint = img.Entrypoint ?? null;
  }
  if (!merged.WorkingDir && img.WorkingDir) merged.WorkingDir = img.WorkingDir;
  merged.Labels = { ...(img.Labels ?? {}), ...user.Labels };
  if (!merged.StopSignal && img.StopSignal) merged.StopSignal = img.StopSignal;
  if (img.ExposedPorts) merged.ExposedPorts = { ...img.ExposedPorts, ...(user.ExposedPorts ?? {}) };
  if (img.Volumes) merged.Volumes = { ...img.Volumes, ...(user.Volumes ?? {}) };
  if (!merged.Healthcheck && img.Healthcheck) merged.Healthcheck = img.Healthcheck;
  if (img.OnBuild) merged.OnBuild = img.OnBuild;
  if (!merged.Shell && img.Shell) merged.Shell = img.Shell;
  const entry = merged.Entrypoint ?? [];
  const cmd = merged.Cmd ?? [];
  if (entry.length === 0 && cmd.length === 0) throw new InvalidParameterError('no command specified');
  return merged;
}
