// A network namespace's interface counters, from /proc/<pid>/net/dev of a process in it, in
// the shape of Docker's stats `networks` (moby's NetworkStats).
import { readFile } from 'node:fs/promises';

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * Parses /proc/net/dev: per interface, receive bytes packets errs drop fifo frame compressed
 * multicast, then transmit bytes packets errs drop ... `lo` is left out, as libnetwork reports
 * only the interfaces it put in the sandbox.
 */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || f.length < 12 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0],
      rx_packets: f[1],
      rx_errors: f[2],
      rx_dropped: f[3],
      tx_bytes: f[8],
      tx_packets: f[9],
      tx_errors: f[10],
      tx_dropped: f[11],
    };
  }
  return out;
}

/** The counters of the namespace `pid` lives in; undefined when it has none but lo or is gone. */
export async function readNetworkStats(pid: number): Promise<Record<string, NetworkStats> | undefined> {
  if (!(pid > 0)) return undefined;
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => '');
  const stats = parseNetDev(text);
  return Object.keys(stats).length ? stats : undefined;
}
