// docker network create: a request checked as moby 28 checks it, turned into a NetworkRecord.
// Pure but for the caller's view of what exists (other networks, host routes).
import { isPredefined } from './views.js';
import { randomBytes } from 'node:crypto';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../../errors.js';
import { checkNoOverlap, completePool, formatCidr, parseCidr, pickSubnet, validateIpamConfig, type AddressPool, type Cidr } from './ipam.js';
import type { IpamPool, NetworkRecord } from './model.js';
import { BRIDGE_NAME_OPTION, MTU_OPTION } from './netavark-options.js';

/** POST /networks/create's body (api/types/network CreateRequest), fields berth reads. */
export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  EnableIPv6?: boolean | null;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface CreateContext {
  existing: NetworkRecord[];
  pools: AddressPool[];
  routes: Cidr[];
  /** The namespace the network is made in (absent: Docker's); names are unique within one. */
  namespace?: string;
}

export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}

/** RFC 3339 with nanoseconds, as Docker prints Created. */
export function nanoTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}000000Z`);
}

export function buildNetwork(req: NetworkCreateRequest, ctx: CreateContext): NetworkRecord {
  const name = req.Name;
  if (!name) throw new InvalidParameterError('network name cannot be empty');
  if (isPredefined(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
  if (ctx.existing.some((n) => n.name === name && n.namespace === ctx.namespace)) throw new ConflictError(`network with name ${name} already exists`);
  const driver = req.Driver || 'bridge';
  if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
  if (driver !== 'bridge') throw new NotFoundError(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
  if (req.EnableIPv6) throw new InvalidParameterError('berth does not support IPv6 networks yet');
  const ipamDriver = req.IPAM?.Driver || 'default';
  if (ipamDriver !== 'default') throw new NotFoundError(`could not find plugin ${ipamDriver} in v1 plugin registry: plugin not found`);
  const configs: IpamPool[] = (req.IPAM?.Config ?? []).map((c) => ({ Subnet: c.Subnet ?? '', ...(c.Gateway ? { Gateway: c.Gateway } : {}), ...(c.IPRange ? { IPRange: c.IPRange } : {}) }));
  validateIpamConfig(configs);
  if (configs.length > 1) throw new InvalidParameterError('berth supports one IPv4 subnet per network');
  const options = { ...(req.Options ?? {}) };
  const bridge = options[BRIDGE_NAME_OPTION] ?? '';
  if (bridge && !/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new InvalidParameterError(`invalid bridge name: ${bridge}`);
  if (bridge && ctx.existing.some((n) => n.bridge === bridge)) throw new ForbiddenError(`bridge name ${bridge} is already in use by another network`);
  const mtu = options[MTU_OPTION];
  if (mtu !== undefined && !(/^\d+$/.test(mtu) && Number(mtu) >= 68 && Number(mtu) <= 65535)) {
    throw new InvalidParameterError(`invalid MTU number: ${mtu}`);
  }
  const others = ctx.existing.flatMap((n) => n.ipam.Config.map((c) => parseCidr(c.Subnet)!)).filter(Boolean);
  let pool: IpamPool;
  if (configs.length === 1) {
    checkNoOverlap(parseCidr(configs[0].Subnet)!, others);
    pool = completePool(configs[0]);
  } else {
    const picked = pickSubnet(ctx.pools, [...others, ...ctx.routes]);
    if (!picked) throw new ForbiddenError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    pool = completePool({ Subnet: formatCidr(picked) });
  }
  const id = newNetworkId();
  return {
    id,
    name,
    driver: 'bridge',
    created: nanoTimestamp(),
    internal: !!req.Internal,
    attachable: !!req.Attachable,
    enableIPv6: false,
    ipam: { Driver: 'default', Options: { ...(req.IPAM?.Options ?? {}) }, Config: [pool] },
    options,
    labels: { ...(req.Labels ?? {}) },
    bridge: bridge || `br-${id.slice(0, 12)}`,
    dnsEnabled: true,
    userSubnet: configs.length === 1,
    ...(ctx.namespace !== undefined ? { namespace: ctx.namespace } : {}),
  };
}
