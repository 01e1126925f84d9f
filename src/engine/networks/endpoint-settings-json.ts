// The types of an EndpointSettings object from a client (network connect's EndpointConfig), with
// Go's decoder texts: a wrong type is a 400 naming the field, never a 500 or a mangled value
// (a string spread as a list of one-letter aliases).
import { type Json, isJsonObject as isObject, wrongFieldType } from '../go-json.js';

const wrong = wrongFieldType;

const STRINGS = ['MacAddress', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPv6Gateway', 'GlobalIPv6Address'];
const INTS = ['IPPrefixLen', 'GlobalIPv6PrefixLen', 'GwPriority'];
const LISTS = ['Links', 'Aliases', 'DNSNames'];

/** Throws for the first field of the wrong JSON type; `path` is Go's, e.g. ConnectOptions.EndpointConfig. */
export function checkEndpointSettings(v: unknown, path: string): void {
  if (v === null || v === undefined) return;
  if (!isObject(v)) throw wrong(path, v, 'network.EndpointSettings');
  for (const k of STRINGS) if (v[k] != null && typeof v[k] !== 'string') throw wrong(`${path}.${k}`, v[k], 'string');
  for (const k of INTS) if (v[k] != null && !Number.isInteger(v[k])) throw wrong(`${path}.${k}`, v[k], 'int');
  for (const k of LISTS) {
    const list = v[k];
    if (list == null) continue;
    if (!Array.isArray(list)) throw wrong(`${path}.${k}`, list, '[]string');
    for (const x of list) if (typeof x !== 'string') throw wrong(`${path}.${k}`, x, 'string');
  }
  const opts = v.DriverOpts;
  if (opts != null) {
    if (!isObject(opts)) throw wrong(`${path}.DriverOpts`, opts, 'map[string]string');
    for (const [k, x] of Object.entries(opts)) if (typeof x !== 'string') throw wrong(`${path}.DriverOpts.${k}`, x, 'string');
  }
  const ipam = v.IPAMConfig;
  if (ipam != null) {
    if (!isObject(ipam)) throw wrong(`${path}.IPAMConfig`, ipam, 'network.EndpointIPAMConfig');
    for (const k of ['IPv4Address', 'IPv6Address']) if (ipam[k] != null && typeof ipam[k] !== 'string') throw wrong(`${path}.IPAMConfig.${k}`, ipam[k], 'string');
    const ll = ipam.LinkLocalIPs;
    if (ll != null && (!Array.isArray(ll) || ll.some((x) => typeof x !== 'string'))) throw wrong(`${path}.IPAMConfig.LinkLocalIPs`, ll, '[]string');
  }
}
