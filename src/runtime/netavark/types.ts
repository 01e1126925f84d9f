// netavark 1.4's JSON (src/network/types.rs): what `setup`/`teardown` read on stdin and what
// `setup` answers. Field names are netavark's.

export interface NetavarkSubnet {
  subnet: string;
  gateway?: string;
  lease_range?: { start_ip?: string; end_ip?: string };
}

export interface NetavarkNetwork {
  /** netavark keys its iptables chains and aardvark-dns' files by this: berth passes the network id. */
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: NetavarkSubnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  /** netavark's own option names: mtu, isolate, metric. */
  options?: Record<string, string>;
  ipam_options?: Record<string, string>;
  network_dns_servers?: string[];
}

export interface NetavarkPerNetwork {
  interface_name: string;
  static_ips: string[];
  aliases?: string[];
  static_mac?: string;
}

export interface NetavarkPortMapping {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: string;
}

export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  /** Keyed by NetavarkNetwork.name, as network_info. */
  networks: Record<string, NetavarkPerNetwork>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings?: NetavarkPortMapping[];
  dns_servers?: string[];
}

export interface NetavarkInterface {
  mac_address: string;
  subnets?: { ipnet: string; gateway?: string }[];
}

export interface NetavarkStatusBlock {
  dns_search_domains?: string[];
  dns_server_ips?: string[];
  interfaces?: Record<string, NetavarkInterface>;
}

/** setup's answer: one status block per network name. */
export type NetavarkSetupResult = Record<string, NetavarkStatusBlock>;
