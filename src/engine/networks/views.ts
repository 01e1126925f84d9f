// The JSON of GET /networks and GET /networks/{id} (moby 28's network.Inspect), from the records.
import type { EndpointRecord, NetworkRecord } from './model.js';

/** The networks every daemon has from its first start; they cannot be created, removed or pruned. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none'];

export function isPredefined(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}

/** A container attached to a network, as the network's Containers map shows it. */
export interface Attachment {
  containerId: string;
  /** With or without the leading '/'. */
  containerName: string;
  endpoint: EndpointRecord;
}

/** One entry of network.Inspect's Containers (moby's EndpointResource). */
export interface EndpointResource {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export function endpointResource(a: Attachment): EndpointResource {
  const ep = a.endpoint;
  return {
    Name: a.containerName.replace(/^\//, ''),
    EndpointID: ep.endpointId,
    MacAddress: ep.macAddress,
    IPv4Address: ep.ipAddress ? `${ep.ipAddress}/${ep.prefixLen}` : '',
    IPv6Address: '',
  };
}

/** A copy with its keys in Go's order: encoding/json writes a map's keys sorted (clients see it). */
export function sortedKeys<T>(m: Record<string, T>): Record<string, T> {
  const keys = Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, m[k]!]));
}

/** host and none have no address management: moby leaves their IPAM options and config unset. */
function hasIpam(n: NetworkRecord): boolean {
  return n.driver === 'bridge';
}

/**
 * IPAM.Config as moby builds it: each pool with only the fields set (Go's omitempty), so a
 * network created with just --subnet shows no Gateway unless the record holds one.
 */
function ipamConfig(n: NetworkRecord) {
  if (!hasIpam(n)) return null;
  return n.ipam.Config.map((p) => ({
    Subnet: p.Subnet,
    ...(p.IPRange ? { IPRange: p.IPRange } : {}),
    ...(p.Gateway ? { Gateway: p.Gateway } : {}),
  }));
}

/**
 * The network as inspect shows it. `attachments`: the containers with a live endpoint on it
 * (running ones); GET /networks passes none, as moby lists networks without their Containers.
 */
export function networkView(n: NetworkRecord, attachments: Attachment[] = []) {
  const containers: Record<string, EndpointResource> = {};
  for (const a of attachments) containers[a.containerId] = endpointResource(a);
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipam.Driver || 'default',
      // The default bridge's pool comes from the daemon's config, not a request: no options.
      Options: hasIpam(n) && n.name !== 'bridge' ? sortedKeys(n.ipam.Options) : null,
      Config: ipamConfig(n),
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: sortedKeys(containers),
    Options: sortedKeys(n.options),
    Labels: sortedKeys(n.labels),
  };
}

export type NetworkView = ReturnType<typeof networkView>;
