// NetworkingConfig.EndpointsConfig and `network connect`'s EndpointConfig as moby 28 reads them
// (daemon/container_operations.go validateEndpointSettings).
import { InvalidParameterError } from '../../errors.js';
import { parseIp } from './ipam.js';
import type { NetworkRecord } from './model.js';

export interface EndpointSettingsInput {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  NetworkID?: string;
}

export interface EndpointRequest {
  requestedIp: string;
  aliases: string[];
  links: string[];
  macAddress: string;
  driverOpts: Record<string, string>;
}

/** Docker's default bridge and the host/none networks are not "user-defined". */
export function isUserDefined(n: NetworkRecord): boolean {
  return n.driver === 'bridge' && n.name !== 'bridge';
}

export function endpointRequest(n: NetworkRecord, s: EndpointSettingsInput | null | undefined): EndpointRequest {
  const ipv4 = s?.IPAMConfig?.IPv4Address ?? '';
  const errs: string[] = [];
  if (!isUserDefined(n)) {
    if (ipv4 || s?.IPAMConfig?.IPv6Address) errs.push('user specified IP address is supported on user defined networks only');
    if (s?.Aliases?.length) errs.push('network-scoped alias is supported only for containers in user defined networks');
  }
  if (ipv4 && parseIp(ipv4) === undefined) errs.push(`invalid IPv4 address: ${ipv4}`);
  if (s?.IPAMConfig?.IPv6Address) errs.push('berth does not support IPv6 addresses yet');
  if (ipv4 && isUserDefined(n) && !n.userSubnet && errs.length === 0) {
    errs.push('user specified IP address is supported only when connecting to networks with user configured subnets');
  }
  const mac = s?.MacAddress ?? '';
  if (mac && !/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(mac)) throw new InvalidParameterError(`invalid MAC address ${mac}`);
  if (errs.length) {
    throw new InvalidParameterError(`invalid endpoint settings:\n${errs.length === 1 ? errs[0] : '* ' + errs.join('\n* ')}`);
  }
  return {
    requestedIp: ipv4,
    aliases: [...(s?.Aliases ?? [])],
    links: [...(s?.Links ?? [])],
    macAddress: mac.toLowerCase().replace(/-/g, ':'),
    driverOpts: { ...(s?.DriverOpts ?? {}) },
  };
}

/** The body's NetworkingConfig.EndpointsConfig, shape-checked. */
export function endpointsConfigOf(networkingConfig: unknown): Record<string, EndpointSettingsInput> {
  if (networkingConfig == null) return {};
  if (typeof networkingConfig !== 'object' || Array.isArray(networkingConfig)) {
    throw new InvalidParameterError('json: cannot unmarshal into Go struct field of type network.NetworkingConfig');
  }
  const ec = (networkingConfig as { EndpointsConfig?: unknown }).EndpointsConfig;
  if (ec == null) return {};
  if (typeof ec !== 'object' || Array.isArray(ec)) {
    throw new InvalidParameterError('json: cannot unmarshal into Go struct field NetworkingConfig.EndpointsConfig of type map[string]*network.EndpointSettings');
  }
  return ec as Record<string, EndpointSettingsInput>;
}
