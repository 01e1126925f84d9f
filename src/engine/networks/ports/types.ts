// A published port as berth keeps it: one host port to one container port (ranges expanded).
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  /** '' for all of the host's addresses (Docker's 0.0.0.0). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** One entry of netavark's `port_mappings` (its PortMapping in types.rs). */
export interface NetavarkPortMapping {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: PortProtocol;
}
