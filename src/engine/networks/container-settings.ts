// A container's NetworkSettings in inspect and its Networks in GET /containers/json, as moby 28
// reports them (daemon/inspect.go, container/view.go), from berth's endpoint records.
import type { ContainerRecord } from '../containers/model.js';
import type { EndpointRecord, NetworkRecord } from './model.js';
import { endpointDnsNames } from './dns/names.js';
import { isPredefined, sortedKeys } from './views.js';

export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

/** What the networking side knows of one container, gathered by the caller. */
export interface ContainerNetworkState {
  /** The container's endpoints with their networks, in connection order. */
  endpoints: { network: NetworkRecord; endpoint: EndpointRecord }[];
  /** For `host`/`none` modes without an endpoint row: the predefined network, for its NetworkID. */
  modeNetwork?: NetworkRecord;
  /** The task's network namespace while it runs: moby's SandboxID and SandboxKey. */
  sandbox?: { id: string; key: string };
  /** NetworkSettings.Ports (ports/index.ts inspectPorts). */
  ports?: PortMap;
  /** GET /containers/json's Ports (ports/index.ts listPorts). */
  listPorts?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  /**
   * The client's API version: before 1.45 moby added the short ID and the hostname to a
   * user-defined network's Aliases in inspect.
   */
  apiVersion?: string;
}

function running(c: ContainerRecord): boolean {
  return c.state.Status === 'running' || c.state.Status === 'paused';
}

function nullIfEmpty<T>(list: T[]): T[] | null {
  return list.length ? list : null;
}

function dnsNames(c: ContainerRecord, aliases: string[]): string[] {
  return endpointDnsNames({ id: c.id, name: c.name, hostname: c.config.Hostname ?? '' }, aliases);
}

function userDefined(n: NetworkRecord): boolean {
  return !isPredefined(n.name);
}

function olderThan(version: string | undefined, than: string): boolean {
  if (!version) return false;
  const [a = 0, b = 0] = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const [x = 0, y = 0] = than.split('.').map((v) => Number.parseInt(v, 10) || 0);
  return a < x || (a === x && b < y);
}

/** One network's EndpointSettings in inspect; operational fields only while the task runs. */
function endpointSettings(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord | undefined, live: boolean, apiVersion?: string) {
  let aliases = ep?.aliases ?? [];
  if (userDefined(n) && olderThan(apiVersion, '1.45')) aliases = [...new Set([...aliases, c.id.slice(0, 12), c.config.Hostname].filter(Boolean))];
  const on = live && !!ep;
  return {
    IPAMConfig: ep?.requestedIp ? { IPv4Address: ep.requestedIp } : null,
    Links: nullIfEmpty(ep?.links ?? []),
    Aliases: nullIfEmpty(aliases),
    MacAddress: on ? ep!.macAddress : '',
    DriverOpts: ep && Object.keys(ep.driverOpts).length ? sortedKeys(ep.driverOpts) : null,
    GwPriority: 0,
    NetworkID: n.id,
    EndpointID: on ? ep!.endpointId : '',
    Gateway: on ? ep!.gateway : '',
    IPAddress: on ? ep!.ipAddress : '',
    IPPrefixLen: on && ep!.ipAddress ? ep!.prefixLen : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: userDefined(n) && n.driver === 'bridge' ? dnsNames(c, ep?.aliases ?? []) : null,
  };
}

type EndpointSettings = ReturnType<typeof endpointSettings>;

/** NetworkSettings.Networks for inspect, keyed by network name. */
export function inspectNetworks(c: ContainerRecord, s: ContainerNetworkState): Record<string, EndpointSettings> {
  const live = running(c);
  const out: Record<string, EndpointSettings> = {};
  // container:<id> shares another container's namespace: moby keeps no networks of its own.
  if (c.hostConfig.NetworkMode.startsWith('container:')) return out;
  for (const { network, endpoint } of s.endpoints) out[network.name] = endpointSettings(c, network, endpoint, live, s.apiVersion);
  if (s.endpoints.length === 0 && s.modeNetwork) out[s.modeNetwork.name] = endpointSettings(c, s.modeNetwork, undefined, live, s.apiVersion);
  return sortedKeys(out);
}

/** NetworkSettings in GET /containers/{id}/json. */
export function networkSettings(c: ContainerRecord, s: ContainerNetworkState) {
  const networks = inspectNetworks(c, s);
  // The deprecated top-level fields mirror the default bridge's endpoint only (moby's getDefaultNetworkSettings).
  const bridge = networks['bridge'];
  const live = running(c);
  return {
    Bridge: '',
    SandboxID: live && s.sandbox ? s.sandbox.id : '',
    SandboxKey: live && s.sandbox ? s.sandbox.key : '',
    Ports: s.ports ?? {},
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.EndpointID ?? '',
    Gateway: bridge?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: bridge?.IPAddress ?? '',
    IPPrefixLen: bridge?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: bridge?.MacAddress ?? '',
    Networks: networks,
  };
}

/** NetworkSettings.Networks in GET /containers/json: moby's summary keeps only these fields. */
export function listNetworks(c: ContainerRecord, s: ContainerNetworkState) {
  const out: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(inspectNetworks(c, { ...s, apiVersion: undefined }))) {
    out[name] = {
      IPAMConfig: e.IPAMConfig,
      Links: null,
      Aliases: null,
      MacAddress: e.MacAddress,
      DriverOpts: null,
      GwPriority: e.GwPriority,
      NetworkID: e.NetworkID,
      EndpointID: e.EndpointID,
      Gateway: e.Gateway,
      IPAddress: e.IPAddress,
      IPPrefixLen: e.IPPrefixLen,
      IPv6Gateway: e.IPv6Gateway,
      GlobalIPv6Address: e.GlobalIPv6Address,
      GlobalIPv6PrefixLen: e.GlobalIPv6PrefixLen,
      DNSNames: null,
    };
  }
  return out;
}
