// Mount specifications as a client sends them (HostConfig.Binds, HostConfig.Mounts,
// HostConfig.VolumesFrom) parsed and validated with moby's words (volume/mounts/linux_parser.go,
// validate.go). Pure: the host checks (does a bind source exist?) are the caller's.
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors.js';
import type { MountPoint, MountType } from './model.js';
import { wrongFieldType } from '../go-json.js';

const RW_MODES = new Set(['rw', 'ro', 'ro-non-recursive', 'ro-force-recursive', 'rro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATIONS = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

/** A parsed mount: the mount point, and for volumes what to create the volume with. */
export interface ParsedMount {
  mount: MountPoint;
  /** Volumes: the name ('' = anonymous), driver, options and labels for its creation. */
  volume?: { name: string; driver: string; options: Record<string, string> | null; labels: Record<string, string> | null };
  /** --mount binds: refuse a missing source at create (moby validates it exists). */
  mustExist?: boolean;
  /** The target as the client wrote it, for the duplicate error. */
  rawTarget: string;
  /** Binds: the propagation the client asked for ('' when none). */
  askedPropagation?: string;
}

/** HostConfig.Mounts[i] as the API carries it (api/types/mount.Mount). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

function invalidSpec(raw: string): string {
  return `invalid volume specification: '${raw}'`;
}

/** moby linuxValidMountMode: each kind of option at most once, nothing unknown. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if (PROPAGATIONS.has(o)) counts.prop++;
    else if (COPY_MODES.has(o)) counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

function readWrite(mode: string): boolean {
  return !mode.split(',').some((o) => o === 'ro' || o === 'ro-non-recursive' || o === 'ro-force-recursive' || o === 'rro');
}

function propagationOf(mode: string): string | undefined {
  return mode.split(',').find((o) => PROPAGATIONS.has(o));
}

export function cleanTarget(target: string): string {
  return posix.normalize(target).replace(/(.)\/+$/, '$1');
}

/** The checks moby's validateMountConfigImpl makes on every mount (errors wrapped by the caller). */
function validateTarget(target: string): string | undefined {
  if (target === '') return 'field Target must not be empty';
  if (cleanTarget(target.replace(/\\/g, '/')) === '/') return "invalid specification: destination can't be '/'";
  if (!target.replace(/\\/g, '/').startsWith('/')) return `invalid mount path: '${target}' mount path must be absolute`;
  return undefined;
}

/** moby ConvertTmpfsOptions: `ro`, `mode=` in octal, `size=` with the largest unit that divides it. */
export function tmpfsData(opts: ApiMount['TmpfsOptions'], readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (opts?.Mode) out.push(`mode=${opts.Mode.toString(8)}`);
  if (opts?.SizeBytes) {
    let size = opts.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        size /= d;
        suffix = s;
        break;
      }
    }
    out.push(`size=${size}${suffix}`);
  }
  for (const opt of opts?.Options ?? []) {
    if (!Array.isArray(opt) || opt.length < 1 || opt.length > 2) throw new Error('invalid option array length');
    if (opt[0] !== 'exec' && opt[0] !== 'noexec') throw new Error(`invalid option: ${opt[0]}`);
    out.push(opt.length === 1 ? opt[0] : `${opt[0]}=${opt[1]}`);
  }
  return out.join(',');
}

/**
 * moby's validateMountConfigImpl + parseMountSpec for HostConfig.Mounts entries (and for Binds,
 * which arrive here converted). Throws the message moby would, unwrapped.
 */
function parseSpec(m: ApiMount, fromBinds: boolean): ParsedMount {
  const type = m.Type ?? '';
  const target = m.Target ?? '';
  const fail = (msg: string) => new Error(`invalid mount config for type "${type}": ${msg}`);
  const targetErr = validateTarget(target);
  if (targetErr) throw fail(targetErr);
  const source = m.Source ?? '';
  const destination = cleanTarget(target);
  const rw = !m.ReadOnly;
  switch (type) {
    case 'bind': {
      if (source === '') throw fail('field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATIONS.has(prop)) throw fail(`invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw fail('field VolumeOptions must not be specified');
      if (!source.startsWith('/')) throw fail(`invalid mount path: '${source}' mount path must be absolute`);
      return {
        mount: {
          Type: 'bind',
          Source: cleanTarget(source),
          Destination: destination,
          Mode: '',
          RW: rw,
          Propagation: prop || DEFAULT_PROPAGATION,
          ...(fromBinds ? {} : { SkipCreate: !m.BindOptions?.CreateMountpoint }),
          ...(m.BindOptions?.NonRecursive ? { NonRecursive: true } : {}),
        },
        mustExist: !fromBinds && !m.BindOptions?.CreateMountpoint,
        rawTarget: target,
        askedPropagation: prop ?? '',
      };
    }
    case 'volume': {
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      const anonymous = source === '';
      if (m.VolumeOptions?.Subpath) {
        if (anonymous) throw fail('must not set Subpath when using anonymous volumes');
        throw fail('volume subpaths are not supported by berth');
      }
      if (m.ReadOnly && anonymous) throw fail('must not set ReadOnly mode when using anonymous volumes');
      const driver = m.VolumeOptions?.DriverConfig?.Name || 'local';
      return {
        mount: {
          Type: 'volume',
          Name: source,
          Source: '',
          Destination: destination,
          Driver: driver,
          // a local volume's mode is 'z' unless given (moby setBindModeIfNull)
          Mode: 'z',
          RW: rw,
          Propagation: '',
          CopyData: !m.VolumeOptions?.NoCopy,
          Named: !anonymous,
        },
        volume: {
          name: source,
          driver,
          options: m.VolumeOptions?.DriverConfig?.Options ?? null,
          labels: m.VolumeOptions?.Labels ?? null,
        },
        rawTarget: target,
      };
    }
    case 'tmpfs': {
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      if (source !== '') throw fail('field Source must not be specified');
      let data: string;
      try {
        data = tmpfsData(m.TmpfsOptions, !!m.ReadOnly);
      } catch (err) {
        throw fail((err as Error).message);
      }
      return {
        mount: { Type: 'tmpfs', Source: '', Destination: destination, Mode: '', RW: rw, Propagation: '', Tmpfs: data },
        rawTarget: target,
      };
    }
    case 'image':
      throw fail('image mounts are not supported by berth');
    default:
      throw fail('mount type unknown');
  }
}

/** Go's decoder on api/types/mount.Mount: a wrong JSON type is a 400, never a TypeError later. */
function checkTypes(raw: unknown): ApiMount {
  const fail = wrongFieldType;
  const obj = (v: unknown, field: string, want: string): Record<string, unknown> | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw fail(field, v, want);
    return v as Record<string, unknown>;
  };
  const check = (o: Record<string, unknown> | null, field: string, key: string, want: 'string' | 'bool' | 'number' | 'map') => {
    const v = o?.[key];
    if (v === undefined || v === null) return;
    const ok =
      want === 'string' ? typeof v === 'string' : want === 'bool' ? typeof v === 'boolean' : want === 'number' ? typeof v === 'number' && Number.isInteger(v) : typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string');
    if (!ok) throw fail(`${field}.${key}`, v, want === 'bool' ? 'bool' : want === 'number' ? 'int64' : want === 'map' ? 'map[string]string' : 'string');
  };
  const m = obj(raw, 'HostConfig.Mounts', 'mount.Mount') ?? {};
  for (const k of ['Type', 'Source', 'Target', 'Consistency']) check(m, 'Mount', k, 'string');
  check(m, 'Mount', 'ReadOnly', 'bool');
  const b = obj(m.BindOptions, 'Mount.BindOptions', 'mount.BindOptions');
  check(b, 'BindOptions', 'Propagation', 'string');
  for (const k of ['NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']) check(b, 'BindOptions', k, 'bool');
  const v = obj(m.VolumeOptions, 'Mount.VolumeOptions', 'mount.VolumeOptions');
  check(v, 'VolumeOptions', 'NoCopy', 'bool');
  check(v, 'VolumeOptions', 'Subpath', 'string');
  check(v, 'VolumeOptions', 'Labels', 'map');
  const dc = obj(v?.DriverConfig, 'VolumeOptions.DriverConfig', 'mount.Driver');
  check(dc, 'Driver', 'Name', 'string');
  check(dc, 'Driver', 'Options', 'map');
  const t = obj(m.TmpfsOptions, 'Mount.TmpfsOptions', 'mount.TmpfsOptions');
  check(t, 'TmpfsOptions', 'SizeBytes', 'number');
  check(t, 'TmpfsOptions', 'Mode', 'number');
  const opts = t?.Options;
  if (opts !== undefined && opts !== null && !(Array.isArray(opts) && opts.every((o) => Array.isArray(o) && o.every((x) => typeof x === 'string')))) {
    throw fail('TmpfsOptions.Options', opts, '[][]string');
  }
  return m as ApiMount;
}

/** A HostConfig.Mounts entry; 400 with moby's text. */
export function parseApiMount(raw: unknown): ParsedMount {
  const m = checkTypes(raw);
  try {
    return parseSpec(m, false);
  } catch (err) {
    throw new InvalidParameterError((err as Error).message);
  }
}

/**
 * A HostConfig.Binds entry (`-v`): `/host:/ctr[:mode]`, `name:/ctr[:mode]` or `/ctr` (moby
 * ParseMountRaw). A source that is not absolute names a volume.
 */
export function parseBindSpec(raw: string): ParsedMount {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw new InvalidParameterError(invalidSpec(raw));
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0];
      break;
    case 2:
      // `/foo:rw` is a destination and a mode, which a volume cannot be
      if (validMountMode(arr[1])) throw new InvalidParameterError(invalidSpec(raw));
      [source, target] = arr;
      break;
    case 3:
      [source, target, mode] = arr;
      break;
    default:
      throw new InvalidParameterError(invalidSpec(raw));
  }
  if (!validMountMode(mode)) throw new InvalidParameterError(`invalid mode: ${mode}`);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const prop = propagationOf(mode);
  const spec: ApiMount = {
    Type: type,
    Source: source,
    Target: target,
    ReadOnly: !readWrite(mode),
    ...(prop ? { BindOptions: { Propagation: prop } } : {}),
    ...(mode.split(',').includes('nocopy') ? { VolumeOptions: { NoCopy: true } } : {}),
  };
  let parsed: ParsedMount;
  try {
    parsed = parseSpec(spec, true);
  } catch (err) {
    throw new InvalidParameterError(`${invalidSpec(raw)}: ${(err as Error).message}`);
  }
  // moby keeps the mode as written; a local volume without one says 'z' (setBindModeIfNull)
  parsed.mount.Mode = mode === '' && type === 'volume' ? 'z' : mode;
  return parsed;
}

/** `--volumes-from c[:ro|rw]`: the container and whether its mounts stay writable. */
export function parseVolumesFrom(spec: string): { container: string; rw: boolean } {
  if (spec === '') throw new InvalidParameterError('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, rw: true };
  // propagation and copy modes are not inherited options
  if (!validMountMode(mode) || propagationOf(mode) || mode.split(',').includes('nocopy')) {
    throw new InvalidParameterError(`invalid mode: ${mode}`);
  }
  return { container, rw: readWrite(mode) };
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}
