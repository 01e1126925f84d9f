// NetworkSettings.Ports (inspect, `docker port`) and the list's Ports (`docker ps` PORTS), as
// moby's getEndpointPortMapInfo and container/view.go build them.
import type { ContainerConfig } from '../../containers/model.js';
import { exposedPortList, portKey } from './spec.js';
import type { PortMapping } from './types.js';

export interface PortBindingView {
  HostIp: string;
  HostPort: string;
}

export interface ListedPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface PortViewOptions {
  /**
   * The container has an IPv6 address on the network that publishes: a binding on all
   * addresses is shown for `::` too. Without one Docker (no userland proxy) shows 0.0.0.0 only.
   */
  ipv6?: boolean;
}

/**
 * NetworkSettings.Ports: `{}` when the container has no published network (not running, or
 * `none`/`host`: pass null); else every exposed port, null when not published, and its
 * bindings. Keys in Go's order (sorted as strings, as encoding/json writes a map).
 */
export function inspectPorts(config: ContainerConfig, mappings: PortMapping[] | null, opts: PortViewOptions = {}): Record<string, PortBindingView[] | null> {
  if (mappings === null) return {};
  const map = new Map<string, PortBindingView[] | null>();
  for (const { port, protocol } of exposedPortList(config.ExposedPorts)) map.set(portKey(port, protocol), null);
  for (const m of mappings) {
    const key = portKey(m.containerPort, m.protocol);
    const list = map.get(key) ?? [];
    const HostPort = String(m.hostPort);
    if (m.hostIp === '') {
      list.push({ HostIp: '0.0.0.0', HostPort });
      if (opts.ipv6) list.push({ HostIp: '::', HostPort });
    } else list.push({ HostIp: m.hostIp, HostPort });
    map.set(key, list);
  }
  const keys = [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, map.get(k) ?? null]));
}

/** GET /containers/json's Ports, from the inspect map (moby builds it the same way). */
export function listPorts(config: ContainerConfig, mappings: PortMapping[] | null, opts: PortViewOptions = {}): ListedPort[] {
  const out: ListedPort[] = [];
  for (const [key, bindings] of Object.entries(inspectPorts(config, mappings, opts))) {
    const [port, Type] = key.split('/');
    const PrivatePort = Number(port);
    if (!bindings || bindings.length === 0) {
      out.push({ PrivatePort, Type });
      continue;
    }
    for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort, PublicPort: Number(b.HostPort), Type });
  }
  return out;
}
