// A Linux bridge with no address of its own takes the lowest MAC among its ports, so it changes
// as containers come and go, and every other container's ARP entry for the gateway goes stale:
// their traffic through the gateway (aardvark-dns on 127.0.0.11 included) stops for seconds to
// minutes. libnetwork gives its bridges a fixed MAC, and netavark does since 1.9
// (containers/netavark#833); Debian 12's netavark 1.4 does not, so berth pins it after setup.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** addr_assign_type of an address set by hand (the kernel's NET_ADDR_SET). */
const NET_ADDR_SET = '3';

/**
 * Gives bridge `name` its current MAC as a fixed one (a no-op once it has one). Best effort: a
 * bridge that vanished or refused keeps working as before, only without the fix.
 */
export async function pinBridgeMac(name: string): Promise<void> {
  const dir = `/sys/class/net/${name}`;
  try {
    if ((await readFile(`${dir}/addr_assign_type`, 'utf8')).trim() === NET_ADDR_SET) return;
    const mac = (await readFile(`${dir}/address`, 'utf8')).trim();
    // setting the same address is enough: the bridge marks it as set and keeps it from then on
    await run('ip', ['link', 'set', 'dev', name, 'address', mac]);
  } catch {
    // see above
  }
}
