// The iptables chains netavark 1.4 makes for one network (src/firewall/varktables/types.rs):
// named by the first 13 hex digits (upper case) of SHA-512 of netavark's network name, which
// is berth's network id, so a name here is never another daemon's or podman's.
import { createHash } from 'node:crypto';

/** netavark's MAX_HASH_SIZE. */
const HASH_LENGTH = 13;

export function networkHash(netavarkName: string): string {
  return createHash('sha512').update(netavarkName).digest('hex').toUpperCase().slice(0, HASH_LENGTH);
}

/** The nat chain of the network's masquerade rules (removed by a complete teardown). */
export function networkChain(netavarkName: string): string {
  return `NETAVARK-${networkHash(netavarkName)}`;
}

/**
 * The nat chain of the network's published ports. netavark 1.4 removes it only in a complete
 * teardown whose options carry port_mappings (an empty list will do); a teardown that leaves
 * the bridge in use empties it and leaves it.
 */
export function portChain(netavarkName: string): string {
  return `NETAVARK-DN-${networkHash(netavarkName)}`;
}

/** Both chains, nat table: what a network leaves when it is gone. */
export function networkChains(netavarkName: string): string[] {
  return [networkChain(netavarkName), portChain(netavarkName)];
}
