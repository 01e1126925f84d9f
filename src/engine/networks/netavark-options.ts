// What netavark is told for one container: its networks (netavark's name = berth's network id,
// so chains and aardvark-dns files never collide between daemons that both have a `bridge`),
// its addresses, DNS names and published ports. Pure.
import type { NetavarkNetwork, NetavarkOptions, NetavarkPortMapping } from '../../runtime/netavark/types.js';
import type { EndpointRecord, NetworkRecord } from './model.js';

export const MTU_OPTION = 'com.docker.network.driver.mtu';
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

export function netavarkNetwork(n: NetworkRecord): NetavarkNetwork {
  const options: Record<string, string> = {};
  if (n.options[MTU_OPTION]) options.mtu = n.options[MTU_OPTION];
  return {
    name: n.id,
    id: n.id,
    driver: 'bridge',
    network_interface: n.bridge,
    subnets: n.ipam.Config.map((c) => ({ subnet: c.Subnet, ...(c.Gateway ? { gateway: c.Gateway } : {}) })),
    ipv6_enabled: false,
    internal: n.internal,
    dns_enabled: n.dnsEnabled,
    options,
    ipam_options: { driver: 'host-local' },
  };
}

export interface PlumbedEndpoint {
  network: NetworkRecord;
  endpoint: EndpointRecord;
  /** DNS names on that network (ignored by netavark where DNS is off). */
  names: string[];
}

export function netavarkOptions(containerId: string, containerName: string, eps: PlumbedEndpoint[], ports: NetavarkPortMapping[], dnsServers: string[] = []): NetavarkOptions {
  const opts: NetavarkOptions = { container_id: containerId, container_name: containerName, networks: {}, network_info: {} };
  // --dns: aardvark-dns forwards this container's other questions there (Docker's ExtServers)
  if (dnsServers.length) opts.dns_servers = [...dnsServers];
  for (const { network, endpoint, names } of eps) {
    opts.network_info[network.id] = netavarkNetwork(network);
    opts.networks[network.id] = {
      interface_name: endpoint.interfaceName,
      static_ips: [endpoint.ipAddress],
      // netavark names the container itself: its aliases are the other names
      ...(network.dnsEnabled && names.length ? { aliases: names.filter((n) => n !== containerName.toLowerCase()) } : {}),
      ...(endpoint.macAddress ? { static_mac: endpoint.macAddress } : {}),
    };
  }
  if (ports.length) opts.port_mappings = ports;
  return opts;
}
