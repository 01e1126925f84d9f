// Legacy --link (HostConfig.Links, `name:alias`) as moby 28 treats it. On the default bridge a
// link is an /etc/hosts line naming the linked container by its alias, hostname and name; on a
// user-defined network the CLI sends links in the endpoint's config instead, and they become
// DNS aliases (names.ts: linkAliasesFor). moby checks the links at create (registerLinks) and
// at start (setupLinkedContainers, addLegacyLinks); so does this, with moby's texts.
import { InvalidParameterError, SystemError } from '../../../errors.js';
import { parseLink } from './names.js';

/** What a link check needs to know of a container. */
export interface LinkedContainer {
  id: string;
  /** With moby's leading slash. */
  name: string;
  hostname: string;
  networkMode: string;
  running: boolean;
}

function parsed(link: string): { name: string; alias: string } {
  try {
    return parseLink(link);
  } catch (err) {
    throw new InvalidParameterError((err as Error).message);
  }
}

/** The links the default bridge acts on: none when the container's network is user-defined, as moby's registerLinks. */
export function defaultBridgeLinks(networkMode: string, links: readonly string[] | null | undefined): string[] {
  return networkMode === 'default' || networkMode === 'bridge' ? [...(links ?? [])] : [];
}

/**
 * At create (moby's validateNetMode and registerLinks): links are refused with host or
 * container networking, and each must name an existing container not on the host network.
 */
export function validateLinks(networkMode: string, links: readonly string[] | null | undefined, lookup: (ref: string) => LinkedContainer | undefined): void {
  if (!links?.length) return;
  if (networkMode === 'host') throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  if (networkMode.startsWith('container:')) throw new InvalidParameterError("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  for (const link of defaultBridgeLinks(networkMode, links)) {
    const { name } = parsed(link);
    let child = lookup(name);
    if (!child) throw new InvalidParameterError(`could not get container for ${name}: No such container: ${name}`);
    // a child sharing another's network stands for that one (moby follows the chain)
    for (let hops = 0; child.networkMode.startsWith('container:') && hops < 10; hops++) {
      const donor = child.networkMode.slice('container:'.length);
      child = lookup(donor);
      if (!child) throw new InvalidParameterError(`could not get container for ${donor}: No such container: ${donor}`);
    }
    if (child.networkMode === 'host') throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  }
}

/**
 * At start on the default bridge: the /etc/hosts entries of the container's links, as moby's
 * addLegacyLinks writes them (`<ip>\t<alias> <hostname> [<name>]`). A linked container must
 * be running and on the default bridge (moby's errors otherwise, 500s as moby's). `bridgeAddress` gives a
 * container's address on the default bridge ('' or undefined when it has none).
 */
export function linkHostEntries(
  parentName: string,
  links: readonly string[],
  lookup: (ref: string) => LinkedContainer | undefined,
  bridgeAddress: (id: string) => string | undefined,
): { ip: string; names: string[] }[] {
  const entries: { ip: string; names: string[] }[] = [];
  for (const link of links) {
    const { name, alias } = parsed(link);
    const child = lookup(name);
    if (!child) throw new InvalidParameterError(`could not get container for ${name}: No such container: ${name}`);
    const linkName = `${parentName.startsWith('/') ? parentName : `/${parentName}`}/${alias}`;
    if (!child.running) throw new SystemError(`Cannot link to a non running container: ${child.name} AS ${linkName}`);
    const ip = bridgeAddress(child.id);
    if (!ip) throw new SystemError(`Cannot link to ${child.name}, as it does not belong to the default network`);
    const names = [alias, child.hostname];
    if (alias !== child.name.slice(1)) names.push(child.name.slice(1));
    entries.push({ ip, names: names.filter(Boolean) });
  }
  return entries;
}
