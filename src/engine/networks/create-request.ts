// POST /networks/create's body decoded as moby's network.CreateRequest (Go decoder texts for
// wrong types), and the checks moby makes before its IPAM runs: the name, the driver, options
// only a swarm or a plugin could honour.
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../../errors.js';
import type { IpamPool } from './model.js';
import { isPredefined } from './views.js';
import { type Json, goJsonType as typeName, isJsonObject as isObject, wrongFieldType as wrongType } from '../go-json.js';

/**
 * The request with its types checked, in Docker's field names; the duplicate name and the IPAM
 * config are the network service's to check and complete.
 */
export interface CheckedNetworkCreate {
  Name: string;
  Driver: 'bridge';
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: IpamPool[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
}


function str(o: Json, key: string, field: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw wrongType(field, v, 'string');
  return v;
}

function bool(o: Json, key: string, field: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(field, v, 'bool');
  return v;
}

function strMap(o: Json, key: string, field: string): Record<string, string> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw wrongType(field, v, 'map[string]string');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw wrongType(`${field}.${k}`, x, 'string');
  return { ...(v as Record<string, string>) };
}

/** Drivers moby has built in but berth does not run; everything else would be a plugin. */
const UNSUPPORTED_BUILTIN = new Set(['macvlan', 'ipvlan']);

function checkDriver(driver: string): void {
  if (driver === 'bridge') return;
  if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
  if (driver === 'overlay') {
    throw new ForbiddenError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  }
  if (UNSUPPORTED_BUILTIN.has(driver)) throw new InvalidParameterError(`network driver ${driver} is not supported by berth`);
  throw new NotFoundError(`plugin "${driver}" not found`);
}

function optionBool(options: Record<string, string>, key: string): boolean | undefined {
  const v = options[key];
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (['1', 't', 'true'].includes(t)) return true;
  if (['0', 'f', 'false'].includes(t)) return false;
  throw new InvalidParameterError(`driver-opt "${key}" is not a valid bool`);
}

function ipamPools(v: unknown): IpamPool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw wrongType('CreateRequest.IPAM.Config', v, '[]network.IPAMConfig');
  return v.map((c) => {
    if (!isObject(c)) throw wrongType('CreateRequest.IPAM.Config', c, 'network.IPAMConfig');
    const pool: IpamPool = { Subnet: str(c, 'Subnet', 'CreateRequest.IPAM.Config.Subnet') };
    const gw = str(c, 'Gateway', 'CreateRequest.IPAM.Config.Gateway');
    const range = str(c, 'IPRange', 'CreateRequest.IPAM.Config.IPRange');
    if (gw) pool.Gateway = gw;
    if (range) pool.IPRange = range;
    if (Object.keys(strMap(c, 'AuxiliaryAddresses', 'CreateRequest.IPAM.Config.AuxiliaryAddresses')).length) {
      throw new InvalidParameterError('berth does not support auxiliary addresses (--aux-address)');
    }
    return pool;
  });
}

/** Decodes and checks a create body; the duplicate-name and IPAM checks are the service's. */
export function parseNetworkCreate(body: unknown): CheckedNetworkCreate {
  if (body === undefined || body === null) body = {};
  if (!isObject(body)) throw new InvalidParameterError(`json: cannot unmarshal ${typeName(body)} into Go value of type network.CreateRequest`);
  const b = body;
  const name = str(b, 'Name', 'CreateRequest.Name');
  const driver = str(b, 'Driver', 'CreateRequest.Driver') || 'bridge';
  const scope = str(b, 'Scope', 'CreateRequest.Scope');
  const enableIPv4 = bool(b, 'EnableIPv4', 'CreateRequest.EnableIPv4');
  let enableIPv6 = bool(b, 'EnableIPv6', 'CreateRequest.EnableIPv6');
  const internal = bool(b, 'Internal', 'CreateRequest.Internal') ?? false;
  const attachable = bool(b, 'Attachable', 'CreateRequest.Attachable') ?? false;
  const ingress = bool(b, 'Ingress', 'CreateRequest.Ingress') ?? false;
  const configOnly = bool(b, 'ConfigOnly', 'CreateRequest.ConfigOnly') ?? false;
  const options = strMap(b, 'Options', 'CreateRequest.Options');
  const labels = strMap(b, 'Labels', 'CreateRequest.Labels');
  bool(b, 'CheckDuplicate', 'CreateRequest.CheckDuplicate');
  const ipamBody = b.IPAM;
  if (ipamBody !== undefined && ipamBody !== null && !isObject(ipamBody)) throw wrongType('CreateRequest.IPAM', ipamBody, 'network.IPAM');
  const ipam = ipamBody ?? {};
  const ipamDriver = str(ipam, 'Driver', 'CreateRequest.IPAM.Driver') || 'default';
  const ipamOptions = strMap(ipam, 'Options', 'CreateRequest.IPAM.Options');
  const config = ipamPools(ipam.Config);
  const configFrom = b.ConfigFrom;
  if (configFrom !== undefined && configFrom !== null && !isObject(configFrom)) throw wrongType('CreateRequest.ConfigFrom', configFrom, 'network.ConfigReference');
  const configFromNetwork = configFrom ? str(configFrom, 'Network', 'CreateRequest.ConfigFrom.Network') : '';

  if (isPredefined(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
  checkDriver(driver);
  if (scope === 'swarm') throw new ForbiddenError('cannot create a swarm scoped network when swarm is not active');
  if (scope !== '' && scope !== 'local') throw new ForbiddenError(`cannot downgrade network scope for ${driver} networks`);
  if (ingress) throw new ForbiddenError('Ingress network can only be global scope network');
  if (configOnly) throw new InvalidParameterError('berth does not support config-only networks');
  if (configFromNetwork) throw new NotFoundError(`configuration network "${configFromNetwork}" does not exist`);
  if (name.trim() === '') throw new InvalidParameterError('invalid name: name is empty');
  if (ipamDriver !== 'default') throw new NotFoundError(`plugin "${ipamDriver}" not found`);

  // moby takes these from the driver options when the fields are not set; a field that is set
  // wins and its option is dropped (it would look wrong in inspect).
  const optIPv4 = enableIPv4 === undefined ? optionBool(options, 'com.docker.network.enable_ipv4') : undefined;
  const optIPv6 = enableIPv6 === undefined ? optionBool(options, 'com.docker.network.enable_ipv6') : undefined;
  if (enableIPv4 !== undefined) delete options['com.docker.network.enable_ipv4'];
  if (enableIPv6 !== undefined) delete options['com.docker.network.enable_ipv6'];
  if ((enableIPv4 ?? optIPv4 ?? true) === false) throw new InvalidParameterError('berth does not support networks without IPv4');
  enableIPv6 ??= optIPv6 ?? false;
  const mtu = options['com.docker.network.driver.mtu'];
  if (mtu !== undefined && !/^\d+$/.test(mtu.trim())) {
    throw new InvalidParameterError(`strconv.Atoi: parsing "${mtu}": invalid syntax`);
  }

  return {
    Name: name,
    Driver: 'bridge',
    Internal: internal,
    Attachable: attachable,
    EnableIPv6: enableIPv6,
    IPAM: { Driver: 'default', Options: ipamOptions, Config: config },
    Options: options,
    Labels: labels,
  };
}
