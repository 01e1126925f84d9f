// The boundary between the engine's networking and what plumbs it (netavark today), as
// task-backend.ts is for conmon: the engine decides networks and addresses, the backend makes
// namespaces, bridges, veths and firewall rules exist.
import type { NetavarkOptions, NetavarkSetupResult } from './types.js';

export interface NetworkBackend {
  /** A new network namespace kept by a bind-mounted nsfs file at `path` (lo up). */
  createNamespace(path: string): Promise<void>;
  /** Unmounts and removes the namespace file; nothing there is not an error. */
  removeNamespace(path: string): Promise<void>;
  /** Whether `path` is a mounted namespace file. */
  namespaceExists(path: string): Promise<boolean>;
  /** Interfaces, addresses and firewall rules for the given networks in the namespace. */
  setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkSetupResult>;
  /** Undoes setup for the given networks (best effort: a half-made setup is undone as far as it went). */
  teardown(netnsPath: string, opts: NetavarkOptions): Promise<void>;
  /**
   * The complete teardown of a stand-in endpoint on a network nothing else uses: netavark removes
   * the bridge and the network's firewall chains, its port-forwarding chain included.
   */
  removeNetwork(netnsPath: string, opts: NetavarkOptions): Promise<void>;
  /** Gives a plumbed container exactly `names` in the network's DNS records (docker rename, link aliases). */
  updateDnsNames(network: string, containerId: string, names: string[]): Promise<void>;
  /** Restarts the DNS server when it has records but died (daemon start). True if it had to. */
  ensureDnsServer(): Promise<boolean>;
  /**
   * Keeps `bridge` (and its network's firewall chains) in place while no container uses it, as
   * Docker keeps its bridges: a port named `anchor` (a veth pair on the host) is enslaved to it,
   * so netavark's teardown of the last container is not a complete one.
   */
  anchorBridge(bridge: string, anchor: string, mtu?: number): Promise<void>;
  /** Removes an anchor (nothing there is not an error). */
  removeAnchor(anchor: string): Promise<void>;
  /** The host's link names (to find the anchors a previous daemon left). */
  linkNames(): Promise<string[]>;
}

/** netavark refused or failed: its own message. */
export class NetworkBackendError extends Error {
  override name = 'NetworkBackendError';
}
