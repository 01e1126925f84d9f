// What NetworkService asks of name resolution for one container: the names aardvark-dns gets
// for it on a network, keeping them right when it is renamed or when a container linking to it
// comes or goes, and its --link entries and checks. The store and the backend stay the
// service's; this sees them through DnsDirectory.
import type { ContainerRecord } from '../../containers/model.js';
import type { EndpointRecord, NetworkRecord } from '../model.js';
import { defaultBridgeLinks, linkHostEntries, validateLinks, type LinkedContainer } from './links.js';
import { aardvarkNames, linkAliasesFor, linkTargets, parseLink } from './names.js';
import { isRunning } from '../../containers/model.js';

export interface DnsDirectory {
  network(id: string): NetworkRecord | undefined;
  /** The default bridge's record. */
  defaultBridge(): NetworkRecord | undefined;
  endpointsOf(containerId: string): EndpointRecord[];
  endpointsOn(networkId: string): EndpointRecord[];
  /** A container by name or id (undefined when there is none). */
  container(ref: string): ContainerRecord | undefined;
  /** Every container. */
  containers(): ContainerRecord[];
  /** Gives the container exactly `names` in aardvark-dns' records of the network (netavark's queue). */
  updateNames(networkId: string, containerId: string, names: string[]): Promise<void>;
}


function linked(c: ContainerRecord): LinkedContainer {
  return { id: c.id, name: c.name, hostname: c.config.Hostname, networkMode: c.hostConfig.NetworkMode || 'default', running: isRunning(c) };
}

export class ContainerDns {
  constructor(private readonly d: DnsDirectory) {}

  /**
   * The names aardvark-dns answers for `c` on network `n` (empty where the network has no
   * DNS): Docker's DNSNames and the aliases of --links to it from containers plumbed there.
   */
  names(c: ContainerRecord, n: NetworkRecord, e: EndpointRecord): string[] {
    if (!n.dnsEnabled) return [];
    const linksThere = this.d
      .endpointsOn(n.id)
      .filter((o) => o.containerId !== c.id && o.ipAddress && o.links.length)
      .map((o) => o.links);
    return aardvarkNames({ id: c.id, name: c.name, hostname: c.config.Hostname }, e.aliases, linkAliasesFor({ id: c.id, name: c.name, hostname: '' }, linksThere));
  }

  /** docker rename: the container's records on every network it is plumbed on follow. */
  async renamed(c: ContainerRecord): Promise<void> {
    for (const e of this.d.endpointsOf(c.id)) {
      const n = this.d.network(e.networkId);
      if (!n?.dnsEnabled || !e.ipAddress) continue;
      await this.d.updateNames(n.id, c.id, this.names(c, n, e));
    }
  }

  /**
   * After `c` was plumbed or released: the containers its links name, on the networks where
   * the links are, get their names again (with or without the aliases `c` gives them).
   */
  async linksChanged(c: ContainerRecord, endpoints: readonly EndpointRecord[]): Promise<void> {
    for (const e of endpoints) {
      const n = this.d.network(e.networkId);
      if (!n?.dnsEnabled || e.links.length === 0) continue;
      const targets = new Set<string>();
      for (const l of e.links) {
        let name: string;
        try {
          name = parseLink(l).name;
        } catch {
          continue;
        }
        for (const other of this.d.endpointsOn(n.id)) {
          if (other.containerId === c.id || !other.ipAddress || targets.has(other.containerId)) continue;
          const oc = this.d.container(other.containerId);
          if (oc && linkTargets(name, { id: oc.id, name: oc.name, hostname: '' })) targets.add(oc.id);
        }
      }
      for (const id of targets) {
        const oc = this.d.container(id);
        const oe = this.d.endpointsOf(id).find((x) => x.networkId === n.id);
        if (oc && oe) await this.d.updateNames(n.id, id, this.names(oc, n, oe));
      }
    }
  }

  /** At create: moby's link checks (the default bridge's links must name existing containers). */
  validateLinks(rec: ContainerRecord): void {
    validateLinks(rec.hostConfig.NetworkMode || 'default', rec.hostConfig.Links as string[] | null | undefined, (ref) => {
      const c = this.d.container(ref);
      return c ? linked(c) : undefined;
    });
  }

  /**
   * Running containers whose default-bridge links name `c` (moby's link parents): when `c`
   * starts with a new address their /etc/hosts line for it is rewritten, as moby's sbJoin does.
   */
  linkParents(c: ContainerRecord): ContainerRecord[] {
    return this.d.containers().filter((p) => {
      if (p.id === c.id || !isRunning(p)) return false;
      return defaultBridgeLinks(p.hostConfig.NetworkMode || 'default', p.hostConfig.Links as string[] | null | undefined).some((l) => {
        try {
          return linkTargets(parseLink(l).name, { id: c.id, name: c.name, hostname: '' });
        } catch {
          return false;
        }
      });
    });
  }

  /**
   * At start on the default bridge: the /etc/hosts lines of the container's links. `starting`
   * is a container being started (not running yet) that counts as running.
   */
  linkHosts(c: ContainerRecord, starting?: string): { ip: string; names: string[] }[] {
    const links = defaultBridgeLinks(c.hostConfig.NetworkMode || 'default', c.hostConfig.Links as string[] | null | undefined);
    if (links.length === 0) return [];
    const bridge = this.d.defaultBridge();
    return linkHostEntries(
      c.name,
      links,
      (ref) => {
        const o = this.d.container(ref);
        if (!o) return undefined;
        const l = linked(o);
        return o.id === starting ? { ...l, running: true } : l;
      },
      (id) => (bridge ? this.d.endpointsOf(id).find((e) => e.networkId === bridge.id)?.ipAddress : undefined),
    );
  }
}
