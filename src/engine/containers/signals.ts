import { constants } from 'node:os';
import { InvalidParameterError } from '../../errors.js';

const BY_NAME = constants.signals as Record<string, number>;

/** moby's signal.ParseSignal: `TERM`, `SIGTERM`, `15` (and lower case) are all SIGTERM. */
export function parseSignal(raw: string | number): number {
  if (typeof raw === 'number' || /^\d+$/.test(String(raw))) {
    const n = Number(raw);
    if (n >= 1 && n <= 64) return n;
    throw new InvalidParameterError(`Invalid signal: ${raw}`);
  }
  const up = raw.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const base = name.startsWith('SIGRTMIN') ? 34 : 64;
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? base + off : base - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = BY_NAME[name];
  if (n === undefined) throw new InvalidParameterError(`Invalid signal: ${raw}`);
  return n;
}
