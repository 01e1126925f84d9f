// Finding a network by what a client typed: moby's rules (full ID, then exact name, then a unique
// ID prefix) and its texts. Names are unique in berth, so only a prefix can be ambiguous.
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import type { NetworkRecord } from './model.js';

/**
 * Which caller's words an ambiguous prefix gets: moby's daemon (connect, disconnect, create's
 * --network), its router for DELETE, and its router for GET /networks/{id}.
 */
export type LookupWording = 'daemon' | 'remove' | 'inspect';

export function findNetwork(all: Iterable<NetworkRecord>, term: string, wording: LookupWording = 'daemon'): NetworkRecord {
  let byName: NetworkRecord | undefined;
  const byPrefix: NetworkRecord[] = [];
  for (const n of all) {
    if (n.id === term) return n;
    if (n.name === term) byName = n;
    if (term !== '' && n.id.startsWith(term)) byPrefix.push(n);
  }
  if (byName) return byName;
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    const count = byPrefix.length;
    if (wording === 'inspect') throw new InvalidParameterError(`${count} matches found based on ID prefix: network ${term} is ambiguous`);
    throw new InvalidParameterError(`network ${term} is ambiguous (${count} matches found based on ID prefix)`);
  }
  throw new NotFoundError(`network ${term} not found`);
}
