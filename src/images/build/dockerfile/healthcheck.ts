// HEALTHCHECK's arguments to the config's Healthcheck (buildkit's parseHealthcheck), with Go's
// time.ParseDuration for the intervals. Durations are nanoseconds, as in the image config.
import type { Instruction } from '../types.js';

export class HealthcheckError extends Error {
  override name = 'HealthcheckError';
}

export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export function healthConfigOf(instr: Pick<Instruction, 'args' | 'flags' | 'json'>): HealthConfig {
  if (instr.args.length === 0) throw new HealthcheckError('HEALTHCHECK requires at least one argument');
  const typ = instr.args[0].toUpperCase();
  const rest = instr.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw new HealthcheckError('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (typ !== 'CMD') throw new HealthcheckError(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = instr.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) throw new HealthcheckError('Missing command after HEALTHCHECK CMD');
  const hc: HealthConfig = { Test: [instr.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  hc.Interval = optInterval(instr.flags, 'interval');
  hc.Timeout = optInterval(instr.flags, 'timeout');
  hc.StartPeriod = optInterval(instr.flags, 'start-period');
  hc.StartInterval = optInterval(instr.flags, 'start-interval');
  const r = instr.flags.retries;
  if (r !== undefined && r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw new HealthcheckError(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    const n = Number(r);
    if (n > 2147483647 || n < -2147483648) throw new HealthcheckError(`strconv.ParseInt: parsing ${JSON.stringify(r)}: value out of range`);
    if (n < 0) throw new HealthcheckError(`--retries cannot be negative (${n})`);
    hc.Retries = n;
  } else {
    hc.Retries = 0;
  }
  return hc;
}

function optInterval(flags: Record<string, string>, name: string): number {
  const s = flags[name];
  if (s === undefined || s === '') return 0;
  const d = parseGoDuration(s);
  if (d === 0) return 0;
  if (d < 1_000_000) throw new HealthcheckError(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return d;
}

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds, with its error words. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const bad = () => new HealthcheckError(`time: invalid duration ${JSON.stringify(orig)}`);
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) throw bad();
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new HealthcheckError(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new HealthcheckError(`time: unknown unit ${JSON.stringify(u[0])} in duration ${JSON.stringify(orig)}`);
    s = s.slice(u[0].length);
    total += Number(m[1] || '0') * unit + (m[2] ? Number(`0.${m[2]}`) * unit : 0);
    if (total > 9223372036854775807) throw bad();
  }
  return Math.round(neg ? -total : total);
}

/** Go's time.Duration.String(), for history lines: 30s, 1m30s, 1.5s, 500ms, 0s. */
export function goDurationString(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = trimFrac(u / (div as number)) + unit;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = trimFrac(u / 1e9) + 's';
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? '-' + out : out;
}

function trimFrac(v: number): string {
  return v.toFixed(9).replace(/\.?0+$/, '');
}
