// Networking for containers (Docker's libnetwork, the parts berth needs): networks and endpoints
// in SQLite, IPAM here, the plumbing by netavark through NetworkBackend. A container's netns is a
// file under the exec-root that outlives the daemon, so running containers keep their network
// across a daemon restart and the next daemon can tear it down.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { BerthError, ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../../errors.js';
import type { NetworkBackend } from '../../runtime/netavark/network-backend.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { ContainerRecord } from '../containers/model.js';
import type { EventBus } from '../events/bus.js';
import { enableEmbeddedDns } from './dns/embedded-dns.js';
import { buildNetwork, nanoTimestamp, newNetworkId, type NetworkCreateRequest } from './create-network.js';
import { endpointRequest, endpointsConfigOf, isUserDefined, type EndpointSettingsInput } from './endpoint-config.js';
import { hostRoutes } from './host-routes.js';
import { allocateAddress, checkRequestedAddress, completePool, DEFAULT_ADDRESS_POOLS, formatCidr, parseBip, parseCidr, pickSubnet, type AddressPool } from './ipam.js';
import { isDockerNetwork, type EndpointRecord, type NetworkRecord, type SandboxRecord } from './model.js';
import { isDockerVisible } from '../containers/cri-extras.js';
import { BRIDGE_NAME_OPTION, MTU_OPTION, netavarkOptions, type PlumbedEndpoint } from './netavark-options.js';
import { allocatePorts, holdPortsAgain, releasePorts, toNetavarkPortMappings, validatePorts, type PortMapping } from './ports/index.js';
import { ContainerDns } from './dns/container-dns.js';
import { updateEtcFiles, type EtcOptions } from '../containers/etc-files.js';
import type { NetworkStore } from './store.js';
import type { ContainerNetworking, NetworkAttachment } from './types.js';
import { findNetwork } from './lookup.js';
import { isRunning } from '../containers/model.js';
import { isPredefined } from './views.js';
import { faultPoint } from '../../util/fault-point.js';

/** What networking needs to know of containers (ContainerService, bound after both exist). */
export interface ContainerDirectory {
  get(ref: string): ContainerRecord;
  list(): ContainerRecord[];
  readonly lock: KeyedLock;
  /** Where the container's hostname, hosts and resolv.conf are (etc-files.ts). */
  bundleDir(id: string): string;
}

export interface NetworkServiceDeps {
  store: NetworkStore;
  backend: NetworkBackend;
  events: EventBus;
  logger: Logger;
  execRoot: string;
  /** dockerd's `bridge`: the default bridge's interface. */
  bridgeName: string;
  /** dockerd's `bip`, '' to pick. */
  bip: string;
  /** dockerd's `mtu`: the default bridge's only (user networks keep their own option). */
  mtu: number;
  pools: AddressPool[];
}

export class NetworkService implements ContainerNetworking {
  private containers?: ContainerDirectory;
  // One plumbing change per container at a time: an exit found twice at daemon start, or a
  // connect racing the exit, must not tear down the same namespace side by side.
  private readonly plumbing = new KeyedLock();
  /** Networks whose bridge berth keeps while no container uses it (anchor()). */
  private readonly anchored = new Set<string>();
  /** Networks past removeNetwork's check for active endpoints: no connect or start may join them. */
  private readonly removing = new Set<string>();

  private readonly dns: ContainerDns;

  constructor(private readonly d: NetworkServiceDeps) {
    const store = d.store;
    this.dns = new ContainerDns({
      network: (id) => store.network(id),
      defaultBridge: () => store.networkByName('bridge'),
      endpointsOf: (id) => store.endpointsOf(id),
      endpointsOn: (id) => store.endpointsOn(id),
      container: (ref) => {
        try {
          return this.dir.get(ref);
        } catch {
          return undefined;
        }
      },
      containers: () => this.dir.list(),
      // aardvark-dns' file is named after netavark's network name: berth's network id; the
      // backend edits it on netavark's queue (netavark's teardown edits it without a lock)
      updateNames: (networkId, containerId, names) => d.backend.updateDnsNames(networkId, containerId, names),
    });
  }

  bindContainers(containers: ContainerDirectory): void {
    this.containers = containers;
  }

  private get dir(): ContainerDirectory {
    if (!this.containers) throw new Error('networking used before containers were bound');
    return this.containers;
  }

  /** Where a container's netns file lives. */
  netnsPath(containerId: string): string {
    return join(this.d.execRoot, 'netns', containerId);
  }

  /** netavark's --config dir: aardvark-dns' files are `<this>/aardvark-dns/<network id>`. */
  get netavarkConfigDir(): string {
    return join(this.d.execRoot, 'netavark');
  }

  // ---- daemon start ----

  /** Makes the exec-root dirs and the predefined networks (bridge, host, none). */
  async init(): Promise<void> {
    await mkdir(join(this.d.execRoot, 'netns'), { recursive: true, mode: 0o700 });
    await mkdir(this.netavarkConfigDir, { recursive: true, mode: 0o700 });
    const s = this.d.store;
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!s.networkByName(name)) s.insertNetwork(this.predefinedRecord(name, driver));
    }
    const wanted = await this.defaultBridgeConfig();
    const current = s.networkByName('bridge');
    let mtuChanged = false;
    if (!current) {
      s.insertNetwork({ ...this.predefinedRecord('bridge', 'bridge'), ...wanted });
    } else if (current.bridge !== wanted.bridge || (this.d.bip && current.ipam.Config[0]?.Gateway !== wanted.ipam.Config[0].Gateway) || current.options[MTU_OPTION] !== wanted.options[MTU_OPTION]) {
      // the daemon's bridge/bip/mtu changed: dockerd remakes its default bridge from the config at
      // each start; berth's follows when nothing uses it, as a running container's veth and the
      // bridge under it cannot change beneath it
      if (!this.plumbedOn(current.id)) {
        s.saveNetwork({ ...current, ...wanted });
        mtuChanged = current.options[MTU_OPTION] !== wanted.options[MTU_OPTION];
      } else {
        this.d.logger.warn({ network: 'bridge', mtu: current.options[MTU_OPTION], configured: wanted.options[MTU_OPTION] }, 'running containers use the default bridge: it keeps its settings until the next daemon start without them');
      }
    }
    // bridges a previous daemon kept (its anchors are still on them)
    const links = new Set(await this.d.backend.linkNames().catch(() => [] as string[]));
    for (const n of s.allNetworks()) if (n.driver === 'bridge' && links.has(anchorName(n))) this.anchored.add(n.id);
    // a bridge kept with the old MTU goes, so that netavark makes it again with the new one
    const bridgeNet = s.networkByName('bridge');
    if (mtuChanged && bridgeNet && this.anchored.has(bridgeNet.id)) {
      await this.dropBridge(bridgeNet).catch((err) => this.d.logger.warn({ err, network: 'bridge' }, 'removing the default bridge for its new MTU failed'));
    }
  }

  /**
   * Daemon shutdown: the bridges no running container uses go with their firewall chains (a
   * daemon that is not running holds no network, and the next one makes them again).
   */
  async close(): Promise<void> {
    for (const id of [...this.anchored]) {
      const n = this.d.store.network(id);
      if (n && this.plumbedOn(id)) continue;
      if (n) await this.dropBridge(n).catch((err) => this.d.logger.warn({ err, network: n.name }, 'removing an unused bridge failed'));
      else this.anchored.delete(id);
    }
  }

  /**
   * Keeps the bridge of a network just plumbed while no container uses it (see anchorBridge):
   * the next container's setup and the last one's teardown then skip the bridge and its chains
   * (150 ms of iptables each way).
   */
  private async anchor(n: NetworkRecord): Promise<void> {
    if (this.anchored.has(n.id)) return;
    this.anchored.add(n.id);
    const mtu = Number(n.options[MTU_OPTION]) || undefined;
    await this.d.backend.anchorBridge(n.bridge, anchorName(n), mtu).catch((err) => {
      this.anchored.delete(n.id);
      this.d.logger.warn({ err, network: n.name }, 'anchoring the bridge failed');
    });
  }

  /**
   * Removes a network's bridge and chains now that nothing uses it: its anchor goes, then
   * netavark's teardown of a stand-in endpoint is the complete one.
   */
  private async dropBridge(n: NetworkRecord): Promise<void> {
    this.anchored.delete(n.id);
    await this.d.backend.removeAnchor(anchorName(n));
    if (!(await this.d.backend.linkNames()).includes(n.bridge)) return;
    const path = join(this.d.execRoot, 'netns', `bridge-${n.id.slice(0, 12)}`);
    const pool = n.ipam.Config[0];
    const standIn: EndpointRecord = {
      containerId: n.id,
      networkId: n.id,
      endpointId: '',
      requestedIp: '',
      ipAddress: (pool && allocateAddress(pool, new Set())) || '',
      prefixLen: pool ? parseCidr(pool.Subnet)!.prefix : 0,
      gateway: '',
      macAddress: '',
      aliases: [],
      links: [],
      interfaceName: 'eth0',
      driverOpts: {},
    };
    // no DNS: the stand-in has no aardvark-dns record to remove
    const eps: PlumbedEndpoint[] = [{ network: { ...n, dnsEnabled: false }, endpoint: standIn, names: [] }];
    try {
      await this.d.backend.createNamespace(path);
      await addDummies(path, ['eth0']);
      await this.d.backend.removeNetwork(path, netavarkOptions(n.id, `bridge-${n.id.slice(0, 12)}`, eps, []));
    } finally {
      await this.d.backend.removeNamespace(path);
    }
  }

  private predefinedRecord(name: string, driver: NetworkRecord['driver']): NetworkRecord {
    return {
      id: newNetworkId(),
      name,
      driver,
      created: nanoTimestamp(),
      internal: false,
      attachable: false,
      enableIPv6: false,
      ipam: { Driver: 'default', Options: {}, Config: [] },
      options: {},
      labels: {},
      bridge: '',
      dnsEnabled: false,
    };
  }

  private async defaultBridgeConfig(): Promise<Pick<NetworkRecord, 'bridge' | 'ipam' | 'options' | 'userSubnet'>> {
    const current = this.d.store.networkByName('bridge');
    let pool = this.d.bip ? parseBip(this.d.bip) : undefined;
    if (!pool && current?.ipam.Config[0] && (!this.d.bip || current.bridge !== this.d.bridgeName)) pool = current.ipam.Config[0];
    if (!pool) {
      const others = this.d.store.allNetworks().filter((n) => n.name !== 'bridge').flatMap((n) => n.ipam.Config.map((c) => parseCidr(c.Subnet)!));
      const picked = pickSubnet(this.pools, [...others, ...(await hostRoutes())]);
      if (!picked) throw new SystemError('no free subnet for the default bridge in the address pools');
      pool = completePool({ Subnet: formatCidr(picked) });
    }
    return {
      bridge: this.d.bridgeName,
      ipam: { Driver: 'default', Options: {}, Config: [pool] },
      // what Docker shows for its default bridge
      options: {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [BRIDGE_NAME_OPTION]: this.d.bridgeName,
        [MTU_OPTION]: String(this.d.mtu),
      },
      userSubnet: !!this.d.bip,
    };
  }

  private get pools(): AddressPool[] {
    return this.d.pools.length ? this.d.pools : DEFAULT_ADDRESS_POOLS;
  }

  // ---- lookups (for the API's routes and views) ----

  /** moby's FindNetwork: full id, then full name, then a unique id prefix, among Docker's networks. */
  find(term: string): NetworkRecord {
    return findNetwork(this.list(), term);
  }

  /** The same lookup among a namespace's networks (the CRI's 'k8s.io'). */
  findIn(namespace: string, term: string): NetworkRecord {
    return findNetwork(this.d.store.allNetworks().filter((n) => n.namespace === namespace), term);
  }

  /** Docker's networks: the Docker API's view. */
  list(): NetworkRecord[] {
    return this.d.store.allNetworks().filter(isDockerNetwork);
  }

  /** Docker's lookup, or the namespace's when one is given. */
  private findScoped(term: string, namespace: string | undefined): NetworkRecord {
    return namespace === undefined ? this.find(term) : this.findIn(namespace, term);
  }

  /**
   * A container's network: a CRI container's own namespace first, then Docker's (host and none,
   * which a host-network pod and the CRI's containers name).
   */
  private findFor(rec: ContainerRecord, term: string): NetworkRecord {
    const ns = rec.cri?.namespace;
    if (ns !== undefined) {
      try {
        return this.findIn(ns, term);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return this.find(term);
  }

  /** A network's endpoints (all containers attached, running or not). */
  endpointsOn(networkId: string): EndpointRecord[] {
    return this.d.store.endpointsOn(networkId);
  }

  /** A container's endpoints in interface order. */
  endpointsOf(containerId: string): EndpointRecord[] {
    return this.d.store.endpointsOf(containerId);
  }

  /** A running container's published ports (null when it has no plumbing). */
  portsOf(containerId: string): PortMapping[] | null {
    return this.d.store.sandbox(containerId)?.ports ?? null;
  }

  /** The default bridge's gateway: what `host-gateway` means. */
  hostGateway(): string {
    return this.d.store.networkByName('bridge')?.ipam.Config[0]?.Gateway ?? '';
  }

  // ---- API: networks ----

  /**
   * `namespace` is the engine's own callers' (the CRI's pod network): the Docker API never passes
   * one, so no request (and no label) can hide a network from Docker's views.
   */
  async createNetwork(req: NetworkCreateRequest, opts: { namespace?: string } = {}): Promise<{ Id: string; Warning: string }> {
    const routes = await hostRoutes();
    // synchronous from here to the insert: two creates never pick the same subnet (any
    // namespace's: they share the host's routes and bridges)
    const rec = buildNetwork(req, { existing: this.d.store.allNetworks(), pools: this.pools, routes, namespace: opts.namespace });
    this.d.store.insertNetwork(rec);
    faultPoint('network.after-row');
    this.networkEvent(rec, 'create');
    return { Id: rec.id, Warning: '' };
  }

  async removeNetwork(term: string, opts: { namespace?: string } = {}): Promise<void> {
    const n = this.findScoped(term, opts.namespace);
    if (isPredefined(n.name)) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    const active = this.d.store.endpointsOn(n.id).filter((e) => e.ipAddress);
    if (active.length) {
      const list = active.map((e) => `name:"${this.containerName(e.containerId)}" id:"${e.endpointId.slice(0, 12)}"`).join(', ');
      throw new ForbiddenError(`error while removing network: network ${n.name} has active endpoints (${list})`);
    }
    if (this.removing.has(n.id)) throw new NotFoundError(`network ${term} not found`);
    // from the check above on, nothing joins it: a connect or start in between would be plumbed
    // onto a bridge being dropped, and its endpoint outlive the network
    this.removing.add(n.id);
    try {
      // a container that just exited may still be leaving it
      await Promise.all(
        this.d.store
          .allSandboxes()
          .filter((sb) => sb.teardown?.endpoints.some((e) => e.networkId === n.id))
          .map((sb) => this.plumbing.run(sb.containerId, async () => undefined)),
      );
      if (!this.d.store.network(n.id)) throw new NotFoundError(`network ${term} not found`);
      await this.dropBridge(n).catch((err) => this.d.logger.warn({ err, network: n.name }, 'removing the bridge failed'));
      faultPoint('network-rm.after-bridge');
      // stopped containers keep their (now dangling) endpoint, as Docker's NetworkSettings keep the
      // network: their next start is Docker's 'network ... not found'
      this.d.store.deleteNetwork(n.id);
    } finally {
      this.removing.delete(n.id);
    }
    this.networkEvent(n, 'destroy');
  }

  /** The network exists and is not being removed. */
  private usable(id: string): boolean {
    return !!this.d.store.network(id) && !this.removing.has(id);
  }

  /** docker network connect. */
  async connect(containerRef: string, networkRef: string, settings: object | null | undefined): Promise<void> {
    const c = this.dockerContainer(containerRef);
    const n = this.find(networkRef);
    await this.dir.lock.run(c.id, () => this.plumbing.run(c.id, async () => {
      // Either may have gone while this waited for the container's lock (a rm -f holds it): the
      // endpoint row of a removed container, or on a removed network, would never be deleted.
      if (!this.lookup(c.id)) throw new NotFoundError(`No such container: ${containerRef}`);
      if (!this.usable(n.id)) throw new NotFoundError(`network ${networkRef} not found`);
      const mode = c.hostConfig.NetworkMode;
      if (n.driver === 'host') throw new InvalidParameterError('cannot connect container to host network - container must be created in host network mode');
      if (mode === 'host' || mode.startsWith('container:')) throw new InvalidParameterError('container sharing network namespace with another container or host cannot be connected to any other network');
      if (mode === 'none' || n.driver === 'null') throw new InvalidParameterError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      if (this.d.store.endpoint(c.id, n.id)) throw new ForbiddenError(`endpoint with name ${c.name.slice(1)} already exists in network ${n.name}`);
      const req = endpointRequest(n, settings as EndpointSettingsInput | null | undefined);
      const ep = this.newEndpoint(c.id, n.id, req, this.nextInterface(c.id));
      const sb = this.d.store.sandbox(c.id);
      if (req.requestedIp) checkRequestedAddress(n.ipam.Config[0], req.requestedIp, sb ? this.addressesInUse(n.id, c.id) : new Set());
      if (!sb || !isRunning(c)) {
        this.d.store.saveEndpoint(ep);
        return;
      }
      // 127.0.0.11 keeps the target it has: aardvark-dns answers for all the container's networks
      const hadEmbeddedDns = this.userEndpointsOf(c.id).length > 0;
      this.assignAddress(n, ep);
      ep.connecting = true;
      this.d.store.saveEndpoint(ep);
      faultPoint('connect.after-row');
      const plumbed: PlumbedEndpoint = { network: n, endpoint: ep, names: this.dnsNames(c, n, ep) };
      const opts = netavarkOptions(c.id, c.name.slice(1), [plumbed], [], (c.hostConfig.Dns as string[] | null | undefined) ?? []);
      try {
        const result = await this.d.backend.setup(sb.netnsPath, opts);
        faultPoint('connect.after-setup');
        delete ep.connecting;
        this.recordResult(result, [plumbed]);
        await this.anchor(n);
      } catch (err) {
        await this.d.backend.teardown(sb.netnsPath, opts).catch(() => undefined);
        this.d.store.deleteEndpoint(c.id, n.id);
        throw new SystemError(errorMessage(err));
      }
      if (isUserDefined(n) && !hadEmbeddedDns) await this.embeddedDns(sb.netnsPath, [plumbed]);
      this.networkEvent(n, 'connect', c.id);
      await this.etcChanged(c, (o) => ({ ...o, ownAddresses: [...(o.ownAddresses ?? []), ep.ipAddress], embeddedDns: o.embeddedDns || isUserDefined(n) }));
      await this.dns.linksChanged(c, [ep]).catch((err) => this.d.logger.warn({ err, id: c.id }, 'updating link aliases failed'));
    }));
  }

  /** docker network disconnect. */
  async disconnect(containerRef: string, networkRef: string, force: boolean): Promise<void> {
    const c = this.dockerContainer(containerRef);
    let n: NetworkRecord;
    try {
      n = this.find(networkRef);
    } catch (err) {
      if (!force || !(err instanceof NotFoundError)) throw err;
      return;
    }
    await this.dir.lock.run(c.id, () => this.plumbing.run(c.id, async () => {
      if (!this.lookup(c.id)) throw new NotFoundError(`No such container: ${containerRef}`);
      const ep = this.d.store.endpoint(c.id, n.id);
      const sb = this.d.store.sandbox(c.id);
      if (c.hostConfig.NetworkMode === 'host' && n.driver === 'host') throw new InvalidParameterError('cannot disconnect container from host network - container was created in host network mode');
      if (!ep) {
        throw new InvalidParameterError(sb ? `container ${c.id} is not connected to network ${n.name}` : `container ${c.id} is not connected to the network ${n.name}`);
      }
      if (sb && ep.ipAddress) {
        const opts = netavarkOptions(c.id, c.name.slice(1), [{ network: n, endpoint: ep, names: this.dnsNames(c, n, ep) }], []);
        // recorded: once the teardown began, the endpoint row alone would claim an interface that is gone
        ep.disconnecting = true;
        this.d.store.saveEndpoint(ep);
        await this.d.backend.teardown(sb.netnsPath, opts).catch((err) => {
          if (!force) {
            delete ep.disconnecting;
            this.d.store.saveEndpoint(ep);
            throw new SystemError(errorMessage(err));
          }
          this.d.logger.warn({ err, id: c.id }, 'forced disconnect: teardown failed');
        });
        this.networkEvent(n, 'disconnect', c.id);
      }
      faultPoint('disconnect.after-teardown');
      this.d.store.deleteEndpoint(c.id, n.id);
      if (sb && ep.ipAddress) {
        // 127.0.0.11 pointed at this network's aardvark-dns listener: another one of the container's takes over
        const left = this.userEndpointsOf(c.id);
        if (isUserDefined(n) && left.length) await this.embeddedDns(sb.netnsPath, [left[0]]).catch((err) => this.d.logger.warn({ err, id: c.id }, 'moving the embedded DNS failed'));
        await this.etcChanged(c, (o) => ({ ...o, ownAddresses: (o.ownAddresses ?? []).filter((a) => a !== ep.ipAddress) }));
        await this.dns.linksChanged(c, [{ ...ep, ipAddress: '' }]).catch((err) => this.d.logger.warn({ err, id: c.id }, 'updating link aliases failed'));
      }
      // Docker's NetworkMode keeps naming a network the container left; the next start uses what is left
    }));
  }

  // ---- ContainerNetworking ----

  async prepareCreate(rec: ContainerRecord, networkingConfig: unknown): Promise<void> {
    const hc = rec.hostConfig;
    let mode = hc.NetworkMode || 'default';
    if (mode === 'default') mode = 'bridge';
    const endpoints = endpointsConfigOf(networkingConfig);
    // the CLI names the default network `default` in EndpointsConfig too
    if (endpoints.default) {
      endpoints.bridge ??= endpoints.default;
      delete endpoints.default;
    }
    const links = (hc.Links as string[] | null | undefined) ?? [];
    validatePorts(hc, rec.config);
    if (mode.startsWith('container:')) {
      const donor = mode.slice('container:'.length);
      if (!donor) throw new InvalidParameterError('invalid container format container:<name|id>');
      if (links.length) throw new InvalidParameterError("conflicting options: container type network can't be used with links. This would result in undefined behavior");
      if (Object.keys((hc.PortBindings as object | null) ?? {}).length || hc.PublishAllPorts) {
        throw new InvalidParameterError('conflicting options: port publishing and the container type network mode');
      }
      if (Object.keys(endpoints).length) throw new InvalidParameterError('container sharing network namespace with another container or host cannot be connected to any other network');
      hc.NetworkMode = mode;
      return;
    }
    this.dns.validateLinks(rec);
    const primary = this.findFor(rec, mode);
    const names = Object.keys(endpoints);
    const others = names.map((name) => ({ name, net: this.findFor(rec, name) })).filter((o) => o.net.id !== primary.id);
    if (others.length && (primary.driver !== 'bridge' || others.some((o) => o.net.driver !== 'bridge'))) {
      const sharing = primary.driver === 'host' || others.some((o) => o.net.driver === 'host');
      throw new InvalidParameterError(
        sharing ? 'container sharing network namespace with another container or host cannot be connected to any other network' : 'container cannot be connected to multiple networks with one of the networks in private (none) mode',
      );
    }
    const primarySettings = endpoints[mode] ?? endpoints[primary.name] ?? endpoints[primary.id];
    const eps: EndpointRecord[] = [this.newEndpoint(rec.id, primary.id, endpointRequest(primary, primarySettings), primary.driver === 'bridge' ? 'eth0' : '')];
    // --link arrives in HostConfig.Links: the primary network's endpoint carries them
    if (links.length && eps[0].links.length === 0) eps[0].links = [...links];
    others.sort((a, b) => a.net.name.localeCompare(b.net.name));
    for (const [i, o] of others.entries()) {
      if (eps.some((e) => e.networkId === o.net.id)) continue;
      eps.push(this.newEndpoint(rec.id, o.net.id, endpointRequest(o.net, endpoints[o.name]), `eth${i + 1}`));
    }
    // Docker keeps the network as named by the user, but `default` becomes `bridge`
    hc.NetworkMode = mode;
    this.d.store.saveEndpoints(eps);
  }

  async abandonCreate(rec: ContainerRecord): Promise<void> {
    this.d.store.deleteEndpointsOf(rec.id);
  }

  /**
   * Resolves with the attachment as soon as the namespace exists and the addresses are known;
   * netavark's setup (100-200 ms of iptables) goes on under the plumbing lock, overlapping the
   * task's create, and `ready` settles when it is done.
   */
  setUp(c: ContainerRecord): Promise<NetworkAttachment> {
    return new Promise((resolve, reject) => {
      void this.plumbing
        .run(c.id, async () => {
          const attachment = await this.setUpLocked(c);
          const ready = attachment.ready;
          if (ready) ready.catch(() => undefined); // awaited by the start; a start that failed first leaves it unread
          resolve(attachment);
          await ready?.catch(() => undefined);
        })
        .catch(reject);
    });
  }

  private async setUpLocked(c: ContainerRecord): Promise<NetworkAttachment> {
    const mode = c.hostConfig.NetworkMode;
    const hostGateway = this.hostGateway();
    if (mode.startsWith('container:')) return this.joinDonor(c, mode.slice('container:'.length), hostGateway);
    const eps = this.d.store.endpointsOf(c.id);
    const bridged = eps.map((e) => ({ e, n: this.d.store.network(e.networkId) })).filter((x) => x.n?.driver === 'bridge') as { e: EndpointRecord; n: NetworkRecord }[];
    const missing = eps.filter((e) => !this.usable(e.networkId));
    if (missing.length) {
      const name = missing[0].interfaceName === 'eth0' && !mode.startsWith('container:') ? mode : missing[0].networkId;
      throw new NotFoundError(`network ${name} not found`);
    }
    if (mode === 'host' || eps.some((e) => this.d.store.network(e.networkId)?.driver === 'host')) return { network: { mode: 'host' }, etc: { hostGateway } };
    if (bridged.length === 0) return { network: { mode: 'none' }, etc: { hostGateway } };
    if (this.d.store.sandbox(c.id)) await this.releaseLocked(c);
    // before anything is plumbed: a link to a stopped container fails the start with nothing to undo
    const linkHosts = this.dns.linkHosts(c);

    // Addresses and ports first, recorded before netavark runs: a daemon dying mid-setup leaves
    // rows that say what to undo.
    const plumbed: PlumbedEndpoint[] = [];
    for (const { e, n } of bridged) {
      if (e.requestedIp) checkRequestedAddress(n.ipam.Config[0], e.requestedIp, this.addressesInUse(n.id, c.id));
      e.endpointId = randomBytes(32).toString('hex');
      this.assignAddress(n, e);
      plumbed.push({ network: n, endpoint: e, names: this.dnsNames(c, n, e) });
    }
    this.d.store.saveEndpoints(plumbed.map((p) => p.endpoint));
    const taken = this.d.store.allSandboxes().filter((s) => s.containerId !== c.id).flatMap((s) => s.ports);
    const sb: SandboxRecord = { containerId: c.id, netnsPath: this.netnsPath(c.id), ports: [] };
    try {
      // Ports go on the first network that reaches out: moby publishes nothing on internal ones.
      const first = plumbed.find((p) => !p.network.internal)?.endpoint;
      sb.ports = first
        ? await allocatePorts(c.hostConfig, c.config, taken, {
            owner: c.id,
            endpoint: { name: c.name.slice(1), id: first.endpointId, containerIp: first.ipAddress },
          })
        : [];
    } catch (err) {
      this.d.store.saveEndpoints(plumbed.map((p) => this.clearEndpoint(p.endpoint)));
      throw err;
    }
    this.d.store.saveSandbox(sb);
    const opts = netavarkOptions(c.id, c.name.slice(1), plumbed, toNetavarkPortMappings(sb.ports), (c.hostConfig.Dns as string[] | null | undefined) ?? []);
    try {
      await this.d.backend.createNamespace(sb.netnsPath);
    } catch (err) {
      await this.releaseLocked(c).catch((e) => this.d.logger.warn({ err: e, id: c.id }, 'undoing a failed network setup failed'));
      throw new SystemError(`failed to set up container networking: ${errorMessage(err)}`);
    }
    const ready = this.plumb(c, sb, opts, plumbed);
    return {
      network: { mode: 'path', path: sb.netnsPath },
      etc: {
        ownAddresses: plumbed.map((p) => p.endpoint.ipAddress),
        embeddedDns: plumbed.some((p) => isUserDefined(p.network)),
        linkHosts,
        hostGateway,
      },
      ready,
    };
  }

  /** setUp's second half: netavark, the embedded DNS, events and link aliases. */
  private async plumb(c: ContainerRecord, sb: SandboxRecord, opts: ReturnType<typeof netavarkOptions>, plumbed: PlumbedEndpoint[]): Promise<void> {
    try {
      const t1 = performance.now();
      const result = await this.d.backend.setup(sb.netnsPath, opts);
      this.d.logger.debug({ id: c.id, setupMs: Math.round(performance.now() - t1) }, 'network set up');
      this.recordResult(result, plumbed);
      for (const p of plumbed) await this.anchor(p.network);
      // a CRI pod resolves through its resolv.conf's servers (kubelet's DNSConfig), never
      // 127.0.0.11: its netns needs no NAT rules (three execs less on the pod's start path)
      const userNets = c.cri ? [] : plumbed.filter((p) => isUserDefined(p.network));
      if (userNets.length) await this.embeddedDns(sb.netnsPath, userNets);
    } catch (err) {
      await this.releaseLocked(c).catch((e) => this.d.logger.warn({ err: e, id: c.id }, 'undoing a failed network setup failed'));
      if (err instanceof BerthError) throw err;
      throw new SystemError(`failed to set up container networking: ${errorMessage(err)}`);
    }
    for (const p of plumbed) this.networkEvent(p.network, 'connect', c.id);
    await this.dns.linksChanged(c, plumbed.map((p) => p.endpoint)).catch((err) => this.d.logger.warn({ err, id: c.id }, 'updating link aliases failed'));
    // containers linking to this one on the default bridge learn its new address
    for (const parent of this.dns.linkParents(c)) {
      await this.etcChanged(parent, (o) => {
        try {
          return { ...o, linkHosts: this.dns.linkHosts(parent, c.id) };
        } catch {
          return o; // another of its links is down: its file stays as it is
        }
      });
    }
  }

  /**
   * Synchronous as Docker's: when `docker stop` returns, the forwards and the host ports are
   * free (a `docker run -p` of the same port right after must work).
   */
  release(c: ContainerRecord): Promise<void> {
    return this.plumbing.run(c.id, () => this.releaseLocked(c));
  }

  private async releaseLocked(c: ContainerRecord): Promise<void> {
    const sb = this.detach(c);
    if (sb) await this.teardownSandbox(sb);
  }

  /**
   * The first half of a release: the endpoints are cleared (disconnect events), what is to be
   * undone is recorded in the sandbox row (a daemon dying in the second half finds it there).
   * Undefined when nothing is plumbed.
   */
  private detach(c: ContainerRecord): SandboxRecord | undefined {
    const existing = this.d.store.sandbox(c.id);
    const plumbed = this.d.store.endpointsOf(c.id).filter((e) => e.ipAddress);
    if (!existing && plumbed.length === 0) return undefined;
    const sb: SandboxRecord = existing ?? { containerId: c.id, netnsPath: this.netnsPath(c.id), ports: [] };
    if (plumbed.length || !sb.teardown) {
      const networks = plumbed.map((e) => this.d.store.network(e.networkId)).filter((n): n is NetworkRecord => !!n);
      const before = sb.teardown ?? { containerName: c.name.slice(1), endpoints: [], networks: [] };
      sb.teardown = {
        containerName: before.containerName,
        endpoints: [...before.endpoints, ...plumbed.map((e) => ({ ...e }))],
        networks: [...before.networks, ...networks.filter((n) => !before.networks.some((b) => b.id === n.id))],
      };
    }
    this.d.store.saveSandbox(sb);
    for (const e of plumbed) {
      const n = this.d.store.network(e.networkId);
      if (n) this.networkEvent(n, 'disconnect', c.id);
    }
    this.d.store.saveEndpoints(plumbed.map((e) => this.clearEndpoint(e)));
    return sb;
  }

  /** The slow half: netavark teardown, the netns, the held ports, the row. */
  private async teardownSandbox(sb: SandboxRecord): Promise<void> {
    const t = sb.teardown ?? { containerName: sb.containerId.slice(0, 12), endpoints: [], networks: [] };
    const eps = t.endpoints
      .map((e) => ({ endpoint: e, network: t.networks.find((n) => n.id === e.networkId) ?? this.d.store.network(e.networkId), names: [] as string[] }))
      .filter((p): p is PlumbedEndpoint => !!p.network);
    const t0 = performance.now();
    if (eps.length) {
      const opts = netavarkOptions(sb.containerId, t.containerName, eps, toNetavarkPortMappings(sb.ports));
      await this.teardown(sb.netnsPath, opts, eps);
    }
    this.d.logger.debug({ id: sb.containerId, teardownMs: Math.round(performance.now() - t0) }, 'network torn down');
    await this.d.backend.removeNamespace(sb.netnsPath);
    releasePorts(sb.containerId);
    this.d.store.deleteSandbox(sb.containerId);
    // the containers its links named lose the aliases it gave them
    const c = this.lookup(sb.containerId);
    if (c) await this.dns.linksChanged(c, t.endpoints).catch((err) => this.d.logger.warn({ err, id: sb.containerId }, 'updating link aliases failed'));
  }

  private lookup(id: string): ContainerRecord | undefined {
    try {
      return this.dir.get(id);
    } catch {
      return undefined;
    }
  }

  /**
   * netavark's teardown needs the namespace and its interfaces: a namespace that vanished (or
   * a setup that died before making them) gets an empty one with stand-in interfaces of the right
   * names, so netavark still removes the firewall rules and a bridge left with no ports.
   */
  private async teardown(path: string, opts: ReturnType<typeof netavarkOptions>, eps: PlumbedEndpoint[]): Promise<void> {
    try {
      if (!(await this.d.backend.namespaceExists(path))) {
        await this.d.backend.removeNamespace(path);
        await this.d.backend.createNamespace(path);
      }
      await this.d.backend.teardown(path, opts);
    } catch (err) {
      // a half-made setup: retry with the missing interfaces stood in for
      this.d.logger.debug({ err, path }, 'teardown failed, retrying with stand-in interfaces');
      await addDummies(path, eps.map((p) => p.endpoint.interfaceName)).catch(() => undefined);
      await this.d.backend.teardown(path, opts).catch((e) => this.d.logger.warn({ err: e, path }, 'network teardown failed'));
    }
  }

  async renamed(c: ContainerRecord): Promise<void> {
    await this.plumbing.run(c.id, () => this.dns.renamed(c));
  }

  async removed(c: ContainerRecord): Promise<void> {
    // a sandbox being torn down carries its own copy of the endpoints
    const sb = this.d.store.sandbox(c.id);
    if ((sb && !sb.teardown) || this.d.store.endpointsOf(c.id).some((e) => e.ipAddress)) await this.release(c);
    this.d.store.deleteEndpointsOf(c.id);
  }

  async recover(running: ContainerRecord[]): Promise<void> {
    const live = new Set(running.map((c) => c.id));
    for (const sb of this.d.store.allSandboxes()) {
      if (live.has(sb.containerId)) await this.undoCutShortConnects(sb);
      if (live.has(sb.containerId)) {
        // the forwards live in iptables; the host ports' placeholder sockets died with the last daemon
        const lost = await holdPortsAgain(sb.containerId, sb.ports);
        if (lost.length) this.d.logger.warn({ id: sb.containerId, lost }, 'published ports taken by another process while the daemon was down');
        continue;
      }
      let c: ContainerRecord | undefined;
      try {
        c = this.dir.get(sb.containerId);
      } catch {
        c = undefined;
      }
      // a container that still exists is released by its own exit path; a vanished one here
      if (!c) await this.release({ id: sb.containerId, name: '/' + (sb.teardown?.containerName ?? sb.containerId.slice(0, 12)) } as ContainerRecord).catch((err) => this.d.logger.warn({ err }, 'releasing an orphaned sandbox failed'));
    }
    // endpoints are recorded before the container's row (create) and forgotten after it (rm):
    // a daemon killed in between left them to a container that does not exist
    const known = new Set(this.dir.list().map((c) => c.id));
    for (const id of new Set(this.d.store.allEndpoints().map((e) => e.containerId))) {
      if (!known.has(id)) this.d.store.deleteEndpointsOf(id);
    }
    // the running containers' names need an aardvark-dns: one that died meanwhile is started again
    if (await this.d.backend.ensureDnsServer().catch((err) => this.d.logger.warn({ err }, 'starting aardvark-dns failed'))) this.d.logger.warn('aardvark-dns was not running: started it again');
  }

  /**
   * A connect the last daemon began and never finished is undone, and a disconnect it began is
   * finished: connected fully or not at all.
   */
  private async undoCutShortConnects(sb: SandboxRecord): Promise<void> {
    for (const ep of this.d.store.endpointsOf(sb.containerId).filter((e) => e.connecting || e.disconnecting)) {
      const n = this.d.store.network(ep.networkId);
      if (n) {
        const c = this.dir.get(sb.containerId);
        const opts = netavarkOptions(c.id, c.name.slice(1), [{ network: n, endpoint: ep, names: this.dnsNames(c, n, ep) }], [], (c.hostConfig.Dns as string[] | null | undefined) ?? []);
        await this.d.backend.teardown(sb.netnsPath, opts).catch((err) => this.d.logger.debug({ err, id: c.id }, 'undoing a connect cut short: teardown'));
      }
      this.d.store.deleteEndpoint(sb.containerId, ep.networkId);
      this.d.logger.warn({ id: sb.containerId, network: ep.networkId }, ep.connecting ? 'a network connect was cut short by the last daemon; undone' : 'a network disconnect was cut short by the last daemon; finished');
    }
  }

  // ---- helpers ----

  private async joinDonor(c: ContainerRecord, ref: string, hostGateway: string): Promise<NetworkAttachment> {
    let donor: ContainerRecord;
    try {
      donor = this.dir.get(ref);
    } catch (err) {
      if (err instanceof NotFoundError) throw new SystemError(`joining network namespace of container: ${err.message}`);
      throw err;
    }
    if (donor.id === c.id) throw new SystemError('cannot join own network namespace');
    if (!isRunning(donor)) {
      throw new ConflictError(`cannot join network namespace of a non running container: container ${donor.name.slice(1)} is ${donor.state.Status}`);
    }
    const sb = this.d.store.sandbox(donor.id);
    const eps = this.d.store.endpointsOf(donor.id).filter((e) => e.ipAddress);
    const etc = { ownAddresses: eps.map((e) => e.ipAddress), embeddedDns: eps.some((e) => { const n = this.d.store.network(e.networkId); return !!n && isUserDefined(n); }), hostGateway };
    if (sb) return { network: { mode: 'path', path: sb.netnsPath }, etc };
    if (donor.hostConfig.NetworkMode === 'host') return { network: { mode: 'host' }, etc };
    return { network: { mode: 'path', path: `/proc/${donor.state.Pid}/ns/net` }, etc };
  }

  private newEndpoint(containerId: string, networkId: string, req: ReturnType<typeof endpointRequest>, interfaceName: string): EndpointRecord {
    return {
      containerId,
      networkId,
      endpointId: '',
      requestedIp: req.requestedIp,
      ipAddress: '',
      prefixLen: 0,
      gateway: '',
      macAddress: req.macAddress,
      aliases: req.aliases,
      links: req.links,
      interfaceName,
      driverOpts: req.driverOpts,
    };
  }

  private nextInterface(containerId: string): string {
    const used = new Set(this.d.store.endpointsOf(containerId).map((e) => e.interfaceName));
    for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
  }

  private addressesInUse(networkId: string, exceptContainer: string): Set<string> {
    const used = new Set(this.d.store.endpointsOn(networkId).filter((e) => e.containerId !== exceptContainer && e.ipAddress).map((e) => e.ipAddress));
    // an address is free again only once its teardown removed the forwards to it
    for (const sb of this.d.store.allSandboxes()) {
      for (const e of sb.teardown?.endpoints ?? []) if (e.networkId === networkId) used.add(e.ipAddress);
    }
    return used;
  }

  /** Synchronous from reading the used addresses to the caller's save: no two containers share one. */
  private assignAddress(n: NetworkRecord, e: EndpointRecord): void {
    const pool = n.ipam.Config[0];
    const ip = e.requestedIp || allocateAddress(pool, this.addressesInUse(n.id, e.containerId));
    if (!ip) throw new ForbiddenError(`no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`);
    e.ipAddress = ip;
    e.prefixLen = parseCidr(pool.Subnet)!.prefix;
    e.gateway = n.internal ? '' : (pool.Gateway ?? '');
    if (!e.endpointId) e.endpointId = randomBytes(32).toString('hex');
  }

  private clearEndpoint(e: EndpointRecord): EndpointRecord {
    e.ipAddress = '';
    e.prefixLen = 0;
    e.gateway = '';
    e.endpointId = '';
    return e;
  }

  private recordResult(result: Record<string, { interfaces?: Record<string, { mac_address: string }> }>, plumbed: PlumbedEndpoint[]): void {
    for (const p of plumbed) {
      const iface = result[p.network.id]?.interfaces?.[p.endpoint.interfaceName];
      if (iface?.mac_address) p.endpoint.macAddress = iface.mac_address;
    }
    this.d.store.saveEndpoints(plumbed.map((p) => p.endpoint));
  }

  /** Names aardvark-dns answers for the container on a user-defined network. */
  private dnsNames(c: ContainerRecord, n: NetworkRecord, e: EndpointRecord): string[] {
    return isUserDefined(n) ? this.dns.names(c, n, e) : [];
  }

  /** The container's plumbed endpoints on user-defined networks, in interface order. */
  private userEndpointsOf(containerId: string): PlumbedEndpoint[] {
    return this.d.store
      .endpointsOf(containerId)
      .filter((e) => e.ipAddress)
      .map((e) => ({ endpoint: e, network: this.d.store.network(e.networkId), names: [] as string[] }))
      .filter((p): p is PlumbedEndpoint => !!p.network && isUserDefined(p.network));
  }

  /** A running container's networks changed: its /etc/hosts and resolv.conf follow, as Docker's do. */
  private async etcChanged(c: ContainerRecord, change: (o: EtcOptions) => EtcOptions): Promise<void> {
    await updateEtcFiles(this.dir.bundleDir(c.id), change).catch((err) => this.d.logger.warn({ err, id: c.id }, 'updating /etc/hosts and resolv.conf failed'));
  }

  private async embeddedDns(netnsPath: string, eps: PlumbedEndpoint[]): Promise<void> {
    const first = eps[0];
    const server = first.network.ipam.Config[0]?.Gateway ?? '';
    if (server) await enableEmbeddedDns(netnsPath, { server, containerIp: first.endpoint.ipAddress });
  }

  private plumbedOn(networkId: string): boolean {
    return this.d.store.endpointsOn(networkId).some((e) => e.ipAddress);
  }

  private containerName(id: string): string {
    try {
      return this.dir.get(id).name.slice(1);
    } catch {
      return id.slice(0, 12);
    }
  }

  /**
   * connect and disconnect are the Docker API's: a CRI container (which a full ID would find)
   * is as absent as an unknown one.
   */
  private dockerContainer(ref: string): ContainerRecord {
    const c = this.dir.get(ref);
    if (!isDockerVisible(c)) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  private networkEvent(n: NetworkRecord, action: string, containerId?: string): void {
    // Docker's event stream is the moby namespace's: the pod network's events and a CRI
    // container's connects stay out of it
    if (!isDockerNetwork(n)) return;
    if (containerId !== undefined && containerId !== n.id && this.lookup(containerId)?.cri) return;
    this.d.events.emit('network', action, n.id, { ...(containerId ? { container: containerId } : {}), name: n.name, type: n.driver });
  }
}

/** The host end of the veth pair that keeps a network's bridge (12 characters: fits IFNAMSIZ). */
function anchorName(n: NetworkRecord): string {
  return `ba${n.id.slice(0, 10)}`;
}


async function addDummies(netnsPath: string, names: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  // veth, not dummy: the dummy driver is not in every kernel
  for (const [i, name] of names.entries()) {
    await run('nsenter', [`--net=${netnsPath}`, 'ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `standin${i}`]).catch(() => undefined);
  }
}
