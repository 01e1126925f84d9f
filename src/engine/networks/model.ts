// Networks and endpoints as berth keeps them (SQLite rows, see store.ts), in Docker's terms.
import type { PortMapping } from './ports/types.js';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface IpamPool {
  /** CIDR, e.g. 10.89.0.0/24. */
  Subnet: string;
  Gateway?: string;
  IPRange?: string;
}

/** One network: Docker's NetworkResource without the Containers map (that comes from endpoints). */
export interface NetworkRecord {
  /** 64 hex. */
  id: string;
  name: string;
  driver: NetworkDriver;
  /** RFC 3339 with nanoseconds, as Docker prints it. */
  created: string;
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  ipam: { Driver: string; Options: Record<string, string>; Config: IpamPool[] };
  /** `-o` options as given (com.docker.network.bridge.name, ...driver.mtu, ...). */
  options: Record<string, string>;
  labels: Record<string, string>;
  /** The Linux bridge netavark makes for it ('' for host/null). */
  bridge: string;
  /** Name resolution by aardvark-dns: on for user-defined bridge networks, off for `bridge`. */
  dnsEnabled: boolean;
  /** The subnet was given by the user (--subnet, bip): only then may containers ask for an --ip. */
  userSubnet?: boolean;
  /**
   * Whose network it is, as containerd keeps `k8s.io` apart from `moby`: absent for Docker's; the
   * CRI's pod network has 'k8s.io' and the Docker API neither lists nor finds it. Set only by the
   * engine's own callers (createNetwork's option), never from a request.
   */
  namespace?: string;
}

/** Docker API views (list, inspect, rm, prune, connect) see Docker's networks only. */
export function isDockerNetwork(n: NetworkRecord): boolean {
  return n.namespace === undefined;
}

/** A container's membership of a network (Docker's EndpointSettings), kept from create on. */
export interface EndpointRecord {
  containerId: string;
  networkId: string;
  /** 64 hex, made when the endpoint is first plumbed (Docker's EndpointID). */
  endpointId: string;
  /** Requested by the user (EndpointsConfig[...].IPAMConfig.IPv4Address / --ip), '' if none. */
  requestedIp: string;
  /** Assigned while plumbed ('' when the container is not running). */
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** User aliases (--network-alias), without the automatic ones. */
  aliases: string[];
  /** --link entries `name:alias` (default bridge: /etc/hosts; user networks: DNS). */
  links: string[];
  /** eth0, eth1... in the container, in connection order. */
  interfaceName: string;
  driverOpts: Record<string, string>;
  /** Set while a connect to a running container plumbs it: the next daemon undoes a connect cut short. */
  connecting?: boolean;
  /** Set while a disconnect tears it down: the next daemon finishes a disconnect cut short. */
  disconnecting?: boolean;
}

/**
 * A running container's plumbing (Docker's sandbox): written before netavark is asked, removed
 * after teardown, so a daemon that dies in between knows what to undo.
 */
export interface SandboxRecord {
  containerId: string;
  /** The bind-mounted netns file under the exec-root. */
  netnsPath: string;
  /** Published ports as allocated at start (host ports picked for `-p 80` / `-P` included). */
  ports: PortMapping[];
  /**
   * Set once the container's task is gone: what netavark must undo, copied from the endpoints
   * (which are cleared first). Addresses and host ports stay taken until the sandbox is gone.
   */
  teardown?: { containerName: string; endpoints: EndpointRecord[]; networks: NetworkRecord[] };
}
