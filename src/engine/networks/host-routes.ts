// The host's IPv4 routes, which a new network's subnet must not overlap (another engine's
// docker0, a VPN, the LAN).
import { readFile } from 'node:fs/promises';
import { parseProcRoutes, type Cidr } from './ipam.js';

export async function hostRoutes(): Promise<Cidr[]> {
  return parseProcRoutes(await readFile('/proc/net/route', 'utf8').catch(() => ''));
}
