// An instruction's `--name=value` flags checked against the ones it accepts (buildkit's
// instructions/bflag.go), with its error words.
import { suggest } from './suggest.js';

export type FlagKind = 'bool' | 'string' | 'strings';

export class FlagError extends Error {
  override name = 'FlagError';
}

/**
 * Parse `raw` (as written, e.g. ['--from=build', '--link']) against `allowed`. Used flags come
 * back in the order written: bool flags as 'true'/'false', repeatable ones joined by '\n'.
 */
export function parseFlags(raw: string[], allowed: Record<string, FlagKind>): Record<string, string> {
  const used: Record<string, string> = {};
  for (const a of raw) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new FlagError(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? '' : a.slice(eq + 1);
    const hasValue = eq >= 0;
    const name = flagName.slice(2);
    const kind = Object.prototype.hasOwnProperty.call(allowed, name) ? allowed[name] : undefined;
    if (!kind) {
      const hint = suggest(name, Object.keys(allowed), true);
      throw new FlagError(`unknown flag: ${flagName}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    if (name in used && kind !== 'strings') throw new FlagError(`duplicate flag specified: ${flagName}`);
    switch (kind) {
      case 'bool':
        if (hasValue && value === '') throw new FlagError(`missing a value on flag: ${flagName}`);
        if (value.toLowerCase() === 'true' || value === '') used[name] = 'true';
        else if (value.toLowerCase() === 'false') used[name] = 'false';
        else throw new FlagError(`expecting boolean value for flag ${flagName}, not: ${value}`);
        break;
      case 'string':
        if (!hasValue) throw new FlagError(`missing a value on flag: ${flagName}`);
        used[name] = value;
        break;
      case 'strings':
        if (!hasValue) throw new FlagError(`missing a value on flag: ${flagName}`);
        used[name] = name in used ? `${used[name]}\n${value}` : value;
        break;
    }
  }
  return used;
}
