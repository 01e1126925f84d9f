// Detach key sequences (`--detach-keys`, `?detachKeys=`), parsed with moby's pkg/term ToBytes rules:
// comma-separated keys, each a single character, `ctrl-@`..`ctrl-z`, `ctrl-[`, `ctrl-\`, `ctrl-]`,
// `ctrl-^`, `ctrl-_` (control codes 0..31) or `DEL`.
import { InvalidParameterError } from '../errors.js';

export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11]; // ctrl-p, ctrl-q

const CTRL_NAMES = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'].map((c) => `ctrl-${c}`);

/** Parses a detach key spec; '' or absent -> ctrl-p,ctrl-q; unknown keys -> 400. */
export function detachKeys(spec: string | undefined): number[] {
  if (spec === undefined || spec === '') return [...DEFAULT_DETACH_KEYS];
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    // Single characters are taken byte-wise, as Go does with key[0].
    const bytes = Buffer.from(key);
    if (bytes.length === 1) {
      codes.push(bytes[0]!);
      continue;
    }
    const ctrl = CTRL_NAMES.indexOf(key);
    if (ctrl >= 0) codes.push(ctrl);
    else if (key === 'DEL') codes.push(127);
    else throw new InvalidParameterError(`Invalid detach keys (${spec}) provided`);
  }
  return codes;
}
