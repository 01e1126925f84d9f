// Daemon settings: dockerd's flag names, then /etc/berth/daemon.json (flags win, as in dockerd).
import { existsSync, readFileSync } from 'node:fs';
import type { RuntimeHandler } from '../../runtime/task-backend.js';
import { goJsonType } from '../go-json.js';
import { parseBip, validatePools, type AddressPool } from '../networks/ipam.js';
import { RegistryConfig } from '../../images/distribution/registry-config.js';
import { parseTcpHost } from './tcp-hosts.js';
import { CriConfigError, parseCriConfig, type CriConfig } from './cri-config.js';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  configFile: string;
  logLevel: string;
  runtimes: Record<string, RuntimeHandler>;
  defaultRuntime: string;
  group: string;
  /** The default bridge's Linux interface (dockerd's `bridge`; docker0 is Docker's, never ours). */
  bridge: string;
  /** The default bridge's gateway address and prefix (dockerd's `bip`), '' to pick a subnet. */
  bip: string;
  /** Where subnets of new networks come from (dockerd's `default-address-pools`); [] = Docker's. */
  defaultAddressPools: AddressPool[];
  /** The MTU of the default bridge's containers (dockerd's `mtu`; 0 in the file means Docker's 1500). */
  mtu: number;
  /** Registries spoken to over plain HTTP or unverified HTTPS (dockerd's `insecure-registries`): CIDRs or host[:port]. */
  insecureRegistries: string[];
  /** docker.io pull-through mirrors, tried before docker.io (dockerd's `registry-mirrors`). */
  registryMirrors: string[];
  /** The Kubernetes CRI front end (`--cri`, daemon.json `cri`); src/cri is loaded only when enabled. */
  cri: CriConfig;
}

interface DaemonJson {
  hosts?: string[];
  'data-root'?: string;
  'exec-root'?: string;
  'log-level'?: string;
  'default-runtime'?: string;
  group?: string;
  bridge?: string;
  bip?: string;
  'default-address-pools'?: AddressPool[];
  mtu?: unknown;
  'insecure-registries'?: unknown;
  'registry-mirrors'?: unknown;
  runtimes?: Record<string, { path: string; runtimeArgs?: string[] }>;
  cri?: unknown;
}

const DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  configFile: '/etc/berth/daemon.json',
};

export class ConfigError extends Error {}

export function parseDaemonArgs(argv: string[]): DaemonConfig {
  const flags: Record<string, string[]> = {};
  const switches = new Set(['--cri']);
  const takesValue = new Set(['-H', '--host', '--data-root', '--exec-root', '--config-file', '--log-level', '-l', '--default-runtime', '-G', '--group', '-b', '--bridge', '--bip', '--default-address-pool', '--mtu', '--insecure-registry', '--registry-mirror']);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (switches.has(arg)) {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new ConfigError(`invalid argument "${value}" for "${arg}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
      (flags[arg] ??= []).push(value ?? 'true');
      continue;
    }
    if (!takesValue.has(arg)) throw new ConfigError(`unknown flag: ${arg}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`flag needs an argument: ${arg}`);
    }
    const key = arg === '-H' ? '--host' : arg === '-l' ? '--log-level' : arg === '-G' ? '--group' : arg === '-b' ? '--bridge' : arg;
    (flags[key] ??= []).push(value);
  }
  const configFile = flags['--config-file']?.at(-1) ?? DEFAULTS.configFile;
  let file: DaemonJson = {};
  if (existsSync(configFile)) {
    try {
      file = JSON.parse(readFileSync(configFile, 'utf8')) as DaemonJson;
    } catch (err) {
      throw new ConfigError(`unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
    }
  } else if (flags['--config-file']) {
    throw new ConfigError(`unable to configure the daemon with file ${configFile}: no such file`);
  }
  const runtimes: Record<string, RuntimeHandler> = { runc: { name: 'runc', path: 'runc', args: [] } };
  for (const [name, r] of Object.entries(file.runtimes ?? {})) {
    if (!r?.path) throw new ConfigError(`runtime ${name} in ${configFile} has no path`);
    runtimes[name] = { name, path: r.path, args: r.runtimeArgs ?? [] };
  }
  const defaultRuntime = flags['--default-runtime']?.at(-1) ?? file['default-runtime'] ?? 'runc';
  if (!runtimes[defaultRuntime]) throw new ConfigError(`default runtime ${defaultRuntime} is not configured`);
  const hosts = flags['--host'] ?? file.hosts ?? [DEFAULTS.host];
  for (const h of hosts) {
    if (!h.startsWith('unix://') && !parseTcpHost(h)) throw new ConfigError(`berth listens on unix:// sockets and tcp://ADDR:PORT only: ${h}`);
  }
  const bridge = flags['--bridge']?.at(-1) ?? file.bridge ?? 'berth0';
  if (bridge === 'docker0') throw new ConfigError('the bridge docker0 is Docker\'s: give berth its own (--bridge, default berth0)');
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new ConfigError(`invalid bridge name: ${bridge}`);
  const bip = flags['--bip']?.at(-1) ?? file.bip ?? '';
  if (bip && !parseBip(bip)) throw new ConfigError(`invalid bip: ${bip}`);
  const defaultAddressPools = flags['--default-address-pool']?.map(parsePoolFlag) ?? file['default-address-pools'] ?? [];
  const poolError = validatePools(defaultAddressPools);
  if (poolError) throw new ConfigError(poolError);
  const mtu = parseMtu(flags['--mtu']?.at(-1), file.mtu, configFile);
  const insecureRegistries = flags['--insecure-registry'] ?? stringList(file['insecure-registries'], 'insecure-registries', configFile);
  const registryMirrors = flags['--registry-mirror'] ?? stringList(file['registry-mirrors'], 'registry-mirrors', configFile);
  try {
    new RegistryConfig({ mirrors: registryMirrors, insecureRegistries });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const execRoot = flags['--exec-root']?.at(-1) ?? file['exec-root'] ?? DEFAULTS.execRoot;
  let cri: CriConfig;
  try {
    cri = parseCriConfig(file.cri, flags['--cri']?.at(-1) === 'true', execRoot, configFile);
  } catch (err) {
    if (err instanceof CriConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    hosts,
    dataRoot: flags['--data-root']?.at(-1) ?? file['data-root'] ?? DEFAULTS.dataRoot,
    execRoot,
    configFile,
    logLevel: flags['--log-level']?.at(-1) ?? file['log-level'] ?? 'info',
    runtimes,
    defaultRuntime,
    group: flags['--group']?.at(-1) ?? file.group ?? 'docker',
    bridge,
    bip,
    defaultAddressPools,
    mtu,
    insecureRegistries,
    registryMirrors,
    cri,
  };
}

/** A daemon.json list of strings, with Go's decoder text for anything else. */
function stringList(v: unknown, key: string, configFile: string): string[] {
  if (v === undefined || v === null) return [];
  const field = key === 'registry-mirrors' ? 'Mirrors' : 'InsecureRegistries';
  if (!Array.isArray(v)) throw new ConfigError(`unable to configure the daemon with file ${configFile}: json: cannot unmarshal ${goJsonType(v)} into Go struct field Config.${field} of type []string`);
  const bad = v.find((x) => typeof x !== 'string');
  if (bad !== undefined) throw new ConfigError(`unable to configure the daemon with file ${configFile}: json: cannot unmarshal ${goJsonType(bad)} into Go struct field Config.${field} of type string`);
  return v as string[];
}

/** Docker's default MTU for the default bridge (moby's DefaultNetworkMtu). */
export const DEFAULT_MTU = 1500;

/** dockerd's `--mtu` / daemon.json `mtu`, with dockerd's messages (pflag's, Go's JSON decoder's, Validate's). */
function parseMtu(flag: string | undefined, fromFile: unknown, configFile: string): number {
  let mtu: number;
  if (flag !== undefined) {
    // decimal only: Go's base prefixes (0x, 0o, 0b) are not worth their parser here
    if (!/^[+-]?(0|[1-9][0-9]{0,8})$/.test(flag)) {
      throw new ConfigError(`invalid argument "${flag}" for "--mtu" flag: strconv.ParseInt: parsing "${flag}": invalid syntax`);
    }
    mtu = Number(flag);
  } else if (fromFile === undefined || fromFile === null) {
    mtu = 0;
  } else if (typeof fromFile === 'number' && Number.isSafeInteger(fromFile)) {
    mtu = fromFile;
  } else {
    // Go names the number itself when it does not fit an int
    const what = typeof fromFile === 'number' ? `number ${fromFile}` : goJsonType(fromFile);
    throw new ConfigError(`unable to configure the daemon with file ${configFile}: json: cannot unmarshal ${what} into Go struct field Config.mtu of type int`);
  }
  if (mtu < 0) throw new ConfigError(`invalid default MTU: ${mtu}`);
  return mtu || DEFAULT_MTU;
}

/** dockerd's `--default-address-pool base=10.10.0.0/16,size=24`. */
function parsePoolFlag(v: string): AddressPool {
  const fields = Object.fromEntries(v.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  if (!fields.base || !fields.size) throw new ConfigError(`invalid default address pool: ${v}`);
  return { base: fields.base, size: Number(fields.size) };
}
