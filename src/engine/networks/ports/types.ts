// A published port as berth keeps it: one host port to one container port (ranges expanded).
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  /** '' for all of the host's addresses (Docker's 0.0.0.0). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** One entry of netavark's `port_mappings`: the runtime layer's type. */
export type { NetavarkPortMapping } from '../../../runtime/netavark/types.js';
