// HostConfig.LogConfig as Docker validates it (moby 28 daemon/logger/factory.go ValidateLogOpts,
// jsonfilelog and local ValidateLogOpt): which drivers exist here, which options each takes, and
// the rotation berth performs for them. Logs are stored in conmon's k8s-file format whatever the driver says;
// json-file and local are two names for "kept, readable, rotated by berth"; none keeps nothing.
import { InvalidParameterError } from '../../errors.js';
import { parseGoBool as goBool } from '../go-json.js';

export type LogDriver = 'json-file' | 'local' | 'none';

export interface LogRotation {
  /** Bytes; the live file is rotated once it reaches this. */
  maxSize: number;
  /** Files kept, the live one included (Docker's max-file). */
  maxFile: number;
}

const DRIVERS = new Set<string>(['json-file', 'local', 'none', 'k8s-file']);
// Options every driver takes (moby's builtInLogOpts, the log cache's included); berth accepts and
// checks them, and has no use for them: conmon writes the log file itself.
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size', 'cache-disabled', 'cache-max-file', 'cache-max-size', 'cache-compress']);
const JSON_FILE_OPTS = new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);
const LOCAL_OPTS = new Set(['max-file', 'max-size', 'compress']);
// The local driver rotates by default (moby daemon/logger/local/config.go).
const LOCAL_DEFAULT: LogRotation = { maxSize: 20 * 1024 * 1024, maxFile: 5 };

/** docker/go-units FromHumanSize, as json-file reads max-size: `10m`, `1.5g`, `100kb`, `512` (decimal multiples). */
export function parseLogSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i.exec(value);
  if (!m) throw new InvalidParameterError(`invalid size: '${value}'`);
  const power = ' kmgtp'.indexOf(m[2]!.toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1000 ** power);
}

/** docker/go-units RAMInBytes: like parseLogSize, in binary multiples (`64k` is 65536). */
export function parseRamSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i.exec(value);
  if (!m) throw new InvalidParameterError(`invalid size: '${value}'`);
  const power = ' kmgtp'.indexOf(m[2]!.toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/**
 * The driver (json-file when empty) after checking it and its options, in moby 28's order and
 * words: `none` takes anything; the logging mode and the built-in options; the driver; then the
 * driver's own options.
 */
export function validateLogConfig(lc: { Type: string; Config: Record<string, string> }): LogDriver {
  const type = lc.Type || 'json-file';
  if (type === 'none') return 'none';
  const cfg = lc.Config;
  const mode = cfg.mode ?? '';
  if (mode !== '' && mode !== 'blocking' && mode !== 'non-blocking') throw new InvalidParameterError(`logger: logging mode not supported: ${mode}`);
  const bufferSize = cfg['max-buffer-size'];
  if (bufferSize !== undefined) {
    if (mode !== 'non-blocking') throw new InvalidParameterError("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    try {
      parseRamSize(bufferSize);
    } catch (err) {
      throw new InvalidParameterError(`error parsing option max-buffer-size: ${(err as Error).message}`);
    }
  }
  const cacheDisabled = cfg['cache-disabled'];
  if (cacheDisabled && goBool(cacheDisabled) === undefined) throw new InvalidParameterError(`invalid value for option cache-disabled: ${cacheDisabled}`);
  if (!DRIVERS.has(type)) throw new InvalidParameterError(`logger: no log driver named '${type}' is registered`);
  const driver: LogDriver = type === 'k8s-file' ? 'json-file' : (type as LogDriver);
  for (const key of Object.keys(cfg)) {
    if (BUILTIN_OPTS.has(key)) continue;
    if (driver === 'json-file' && !JSON_FILE_OPTS.has(key)) throw new InvalidParameterError(`unknown log opt '${key}' for json-file log driver`);
    if (driver === 'local' && !LOCAL_OPTS.has(key)) throw new InvalidParameterError(`unknown log opt '${key}' for log driver local`);
  }
  const rotation = logRotation(lc);
  const compress = cfg.compress;
  if (compress !== undefined) {
    const on = goBool(compress);
    if (on === undefined) throw new InvalidParameterError(`strconv.ParseBool: parsing "${compress}": invalid syntax`);
    // berth keeps rotated files uncompressed; the option is checked as Docker does and kept
    if (on && driver === 'json-file' && (!rotation || rotation.maxFile < 2)) {
      throw new InvalidParameterError('compress cannot be true when max-file is less than 2 or max-size is not set');
    }
  }
  return driver;
}

/** The rotation the config asks for, or undefined when the log grows without bound. */
export function logRotation(lc: { Type: string; Config: Record<string, string> }): LogRotation | undefined {
  const type = lc.Type || 'json-file';
  if (type === 'none') return undefined;
  const base = type === 'local' ? LOCAL_DEFAULT : undefined;
  const sizeOpt = lc.Config['max-size'];
  const fileOpt = lc.Config['max-file'];
  const maxSize = sizeOpt !== undefined && sizeOpt !== '-1' ? parseLogSize(sizeOpt) : base?.maxSize;
  let maxFile = base?.maxFile ?? 1;
  if (fileOpt !== undefined) {
    if (!/^-?\d+$/.test(fileOpt)) throw new InvalidParameterError(`strconv.Atoi: parsing "${fileOpt}": invalid syntax`);
    maxFile = Number(fileOpt);
    if (maxFile < 1) throw new InvalidParameterError('max-file cannot be less than 1');
  }
  if (maxSize === undefined) return undefined;
  if (maxSize <= 0) throw new InvalidParameterError('max-size must be a positive number');
  return { maxSize, maxFile };
}
