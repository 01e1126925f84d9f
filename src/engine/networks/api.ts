// The network verbs of the Engine API (docker network ls/inspect/create/rm/prune/connect/
// disconnect) over the network service's records: lookup as moby does it, filters, the JSON
// views, and the network events moby logs for them.
import { createHash } from 'node:crypto';
import { InvalidParameterError } from '../../errors.js';
import { isDockerVisible } from '../containers/cri-extras.js';
import type { ContainerRecord } from '../containers/model.js';
import type { EventBus } from '../events/bus.js';
import type { CheckedNetworkCreate } from './create-request.js';
import { parseNetworkCreate } from './create-request.js';
import { listFilter, type FilterMap } from './filters.js';
import { findNetwork } from './lookup.js';
import type { EndpointRecord, NetworkRecord } from './model.js';
import type { PortMapping } from './ports/types.js';
import { pruneNetworks, type PruneReport } from './prune.js';
import { checkEndpointSettings } from './endpoint-settings-json.js';
import { networkView, type Attachment, type NetworkView } from './views.js';
import type { ContainerNetworkState } from './container-settings.js';
import { inspectPorts, listPorts } from './ports/index.js';
import { type Json, goJsonType as jsonType, isJsonObject as isObject } from '../go-json.js';

/** What the network service (service.ts NetworkService) provides to the API verbs. */
export interface NetworkBackend {
  list(): NetworkRecord[];
  endpointsOn(networkId: string): EndpointRecord[];
  endpointsOf(containerId: string): EndpointRecord[];
  /** A running container's published ports; null when it has no plumbing (no sandbox). */
  portsOf(containerId: string): PortMapping[] | null;
  /** The container's network namespace file (moby's SandboxKey). */
  netnsPath(containerId: string): string;
  /** Checks the name and IPAM config, records the network, emits `create`. */
  createNetwork(req: CheckedNetworkCreate): Promise<{ Id: string; Warning: string }>;
  /** Refuses (403, moby's text) while a container has a live endpoint on it; emits `destroy`. */
  removeNetwork(term: string): Promise<void>;
  connect(containerRef: string, networkRef: string, settings: object | null): Promise<void>;
  disconnect(containerRef: string, networkRef: string, force: boolean): Promise<void>;
}

export interface ContainerLookup {
  get(ref: string): ContainerRecord;
  list(): ContainerRecord[];
}

export interface NetworkApiDeps {
  backend: NetworkBackend;
  containers: ContainerLookup;
  events: EventBus;
  warn(msg: string, fields: Record<string, unknown>): void;
}

/** The task runs: its endpoints are live (moby has a sandbox only then). */
function live(c: ContainerRecord | undefined): boolean {
  return !!c && (c.state.Status === 'running' || c.state.Status === 'paused');
}

export class NetworkApi {
  constructor(private readonly d: NetworkApiDeps) {}

  /** GET /networks: Containers left empty, as moby lists them. */
  list(filters: FilterMap): NetworkView[] {
    const keep = listFilter(filters);
    return this.sorted().filter((n) => keep(n, this.inUse(n))).map((n) => networkView(n));
  }

  /** GET /networks/{id}. `scope` other than local finds nothing, as moby's scope filter. */
  inspect(term: string, scope = ''): NetworkView {
    const n = findNetwork(this.d.backend.list(), term, 'inspect');
    if (scope !== '' && scope !== 'local') throw findNetworkNotFound(term);
    // a CRI pod's infra container is attached (to the CRI pod network) but not Docker's to show
    return networkView(n, this.attachments(n, true));
  }

  create(body: unknown): Promise<{ Id: string; Warning: string }> {
    return this.d.backend.createNetwork(parseNetworkCreate(body));
  }

  async remove(term: string): Promise<void> {
    const n = findNetwork(this.d.backend.list(), term, 'remove');
    await this.removeRecord(n);
  }

  async prune(filters: FilterMap): Promise<PruneReport> {
    const report = await pruneNetworks(
      {
        list: () => this.sorted(),
        inUse: (n) => this.inUse(n),
        remove: (n) => this.removeRecord(n),
        warn: (n, message) => this.d.warn('prune: cannot remove network', { network: n.name, err: message }),
      },
      filters,
    );
    this.d.events.emit('network', 'prune', '', { reclaimed: '0' });
    return report;
  }

  async connect(term: string, body: unknown): Promise<void> {
    const { container, endpointConfig } = parseConnect(body);
    await this.d.backend.connect(container, term, endpointConfig);
  }

  async disconnect(term: string, body: unknown): Promise<void> {
    const { container, force } = parseDisconnect(body);
    await this.d.backend.disconnect(container, term, force);
  }

  /** What container inspect and list need of a container's networks. */
  containerState(c: ContainerRecord, apiVersion?: string): ContainerNetworkState {
    const byId = new Map(this.d.backend.list().map((n) => [n.id, n]));
    const endpoints = this.d.backend
      .endpointsOf(c.id)
      .map((endpoint) => ({ network: byId.get(endpoint.networkId)!, endpoint }))
      .filter((e) => e.network !== undefined);
    const mode = c.hostConfig.NetworkMode;
    const modeNetwork = mode === 'host' || mode === 'none' ? [...byId.values()].find((n) => n.name === mode) : undefined;
    // A sandbox exists from start to release; a container sharing another's namespace has none.
    const mappings = live(c) ? this.d.backend.portsOf(c.id) : null;
    // moby lists ports (exposed ones too) only from an endpoint on a network that is not internal
    const published = mappings && endpoints.some((e) => !e.network.internal) ? mappings : null;
    return {
      endpoints,
      modeNetwork,
      sandbox: mappings ? { id: sandboxId(c.id), key: this.d.backend.netnsPath(c.id) } : undefined,
      ports: inspectPorts(c.config, published),
      listPorts: listPorts(c.config, published),
      apiVersion,
    };
  }

  /** The networks a container is on (the container list's `network` filter). */
  networksOf(c: ContainerRecord): { name: string; id: string }[] {
    const s = this.containerState(c);
    const nets = s.endpoints.map((e) => e.network);
    if (nets.length === 0 && s.modeNetwork) nets.push(s.modeNetwork);
    return nets.map((n) => ({ name: n.name, id: n.id }));
  }

  private async removeRecord(n: NetworkRecord): Promise<void> {
    // the service refuses predefined networks
    await this.d.backend.removeNetwork(n.id);
  }

  /** Networks in creation order, as libnetwork walks them (the CLI sorts by name itself). */
  private sorted(): NetworkRecord[] {
    return [...this.d.backend.list()].sort((a, b) => Date.parse(a.created) - Date.parse(b.created) || a.created.localeCompare(b.created));
  }

  private attachments(n: NetworkRecord, dockerOnly = false): Attachment[] {
    const out: Attachment[] = [];
    for (const endpoint of this.d.backend.endpointsOn(n.id)) {
      let c: ContainerRecord | undefined;
      try {
        c = this.d.containers.get(endpoint.containerId);
      } catch {
        continue;
      }
      if (live(c) && !(dockerOnly && !isDockerVisible(c))) out.push({ containerId: c.id, containerName: c.name, endpoint });
    }
    return out;
  }

  private inUse(n: NetworkRecord): boolean {
    return this.attachments(n).length > 0;
  }
}

/**
 * moby's SandboxID is its own random ID; berth has one sandbox per container, so it derives a
 * stable one from the container ID (a different string: tools do not mistake one for the other).
 */
export function sandboxId(containerId: string): string {
  return createHash('sha256').update(`sandbox:${containerId}`).digest('hex');
}

function findNetworkNotFound(term: string): Error {
  try {
    findNetwork([], term);
  } catch (err) {
    return err as Error;
  }
  return new Error(term);
}


function field(o: Json, key: string, want: 'string' | 'boolean', goStruct: string): string | boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== want) {
    throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${goStruct}.${key} of type ${want === 'boolean' ? 'bool' : 'string'}`);
  }
  return v as string | boolean;
}

function parseConnect(body: unknown): { container: string; endpointConfig: Json | null } {
  const b = body ?? {};
  if (!isObject(b)) throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(b)} into Go value of type network.ConnectOptions`);
  const container = (field(b, 'Container', 'string', 'ConnectOptions') as string | undefined) ?? '';
  const endpointConfig = b.EndpointConfig ?? null;
  checkEndpointSettings(endpointConfig, 'ConnectOptions.EndpointConfig');
  return { container, endpointConfig: endpointConfig as Json | null };
}

function parseDisconnect(body: unknown): { container: string; force: boolean } {
  const b = body ?? {};
  if (!isObject(b)) throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(b)} into Go value of type network.DisconnectOptions`);
  return {
    container: (field(b, 'Container', 'string', 'DisconnectOptions') as string | undefined) ?? '',
    force: (field(b, 'Force', 'boolean', 'DisconnectOptions') as boolean | undefined) ?? false,
  };
}
