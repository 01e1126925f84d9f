// Turns a POST /containers/create body into a validated Config and HostConfig, as moby's
// decoder and daemon/create.go would, with Docker's messages for bad input.
import { InvalidParameterError } from '../errors.js';
import type { ImageContainerConfig } from '../images/types.js';
import type { ContainerConfig, HostConfig, RestartPolicy } from './container-model.js';
import { validateLogConfig } from './log-config.js';

type Json = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : typeof v;
}

function wrongType(field: string, v: unknown, want: string): InvalidParameterError {
  return new InvalidParameterError(`json: cannot unmarshal ${typeName(v)} into Go struct field ${field} of type ${want}`);
}

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

const RESTART_NAMES = new Set(['', 'no', 'always', 'on-failure', 'unless-stopped']);

function restartPolicy(hc: Json): RestartPolicy {
  const rp = object(hc.RestartPolicy, 'HostConfig.RestartPolicy', 'container.RestartPolicy');
  const name = str(rp, 'Name', 'RestartPolicy.Name');
  const max = int(rp, 'MaximumRetryCount', 'RestartPolicy.MaximumRetryCount') ?? 0;
  if (!RESTART_NAMES.has(name)) {
    throw new InvalidParameterError(
      `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  }
  if (max < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') {
    throw new InvalidParameterError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

export interface CreateRequest {
  config: Omit<ContainerConfig, keyof ImageContainerConfig> & ImageContainerConfig;
  hostConfig: HostConfig;
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
  for (const e of config.Env) {
    if (e.startsWith('=') || e === '') throw new InvalidParameterError(`invalid environment variable: ${e}`);
  }
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
  return { config, hostConfig };
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
