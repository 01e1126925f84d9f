// What a container asks to publish, in moby's terms (daemon/network.go
// buildPortsRelatedCreateEndpointOptions): every exposed port, each of its bindings, and with
// PublishAllPorts a binding on a free port for an exposed port that has none. A binding whose
// port is not exposed is ignored, as Docker does (the CLI exposes what -p publishes).
import type { ContainerConfig, HostConfig } from '../../containers/model.js';
import { exposedPortList, normaliseHostIp, parseHostPort, parsePortKey, portKey } from './spec.js';
import type { PortProtocol } from './types.js';

export interface PortRequest {
  containerPort: number;
  protocol: PortProtocol;
  /** '' for all of the host's addresses. */
  hostIp: string;
  /** 0 and 0: any free port of the ephemeral range; start < end: the first free in the range. */
  hostPortStart: number;
  hostPortEnd: number;
}

const PROTO_ORDER: Record<PortProtocol, number> = { tcp: 0, udp: 1, sctp: 2 };

export function portRequests(hc: HostConfig, config: ContainerConfig): PortRequest[] {
  const bindings = new Map<string, { HostIp?: string; HostPort?: string }[]>();
  for (const [key, list] of Object.entries((hc.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>)) {
    const k = parsePortKey(key);
    if (!k) continue;
    const id = portKey(k.port, k.protocol);
    bindings.set(id, [...(bindings.get(id) ?? []), ...(list ?? [])]);
  }
  const out: PortRequest[] = [];
  for (const { port, protocol } of exposedPortList(config.ExposedPorts)) {
    const list = bindings.get(portKey(port, protocol)) ?? [];
    for (const b of list) {
      const range = parseHostPort(b.HostPort ?? '');
      const hostIp = normaliseHostIp(b.HostIp ?? '');
      // create refused both; a record from before the checks keeps its other ports
      if (typeof range === 'string' || hostIp === undefined) continue;
      out.push({ containerPort: port, protocol, hostIp, hostPortStart: range.start, hostPortEnd: range.end });
    }
    if (hc.PublishAllPorts && list.length === 0) out.push({ containerPort: port, protocol, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
  }
  // moby's cmpPortBinding: exact host ports before ranges (an exact port inside a range gets
  // its port), then by container port, protocol, host port and address.
  const isRange = (r: PortRequest) => r.hostPortStart === 0 || r.hostPortStart !== r.hostPortEnd;
  return out.sort(
    (a, b) =>
      Number(isRange(a)) - Number(isRange(b)) ||
      a.containerPort - b.containerPort ||
      PROTO_ORDER[a.protocol] - PROTO_ORDER[b.protocol] ||
      a.hostPortStart - b.hostPortStart ||
      a.hostPortEnd - b.hostPortEnd ||
      (a.hostIp < b.hostIp ? -1 : a.hostIp > b.hostIp ? 1 : 0),
  );
}

/** moby's needSamePort: requests that differ only in host address get one host port. */
export function sameHostPort(a: PortRequest, b: PortRequest): boolean {
  return a.containerPort === b.containerPort && a.protocol === b.protocol && a.hostPortStart === b.hostPortStart && a.hostPortEnd === b.hostPortEnd;
}
