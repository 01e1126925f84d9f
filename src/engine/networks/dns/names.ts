// The names a container answers to on a user-defined network (Docker's DNSNames, plus the
// aliases other containers gave it with --link there), and the form aardvark-dns can carry.

export interface DnsContainer {
  /** 64 hex. */
  id: string;
  /** With or without moby's leading slash. */
  name: string;
  /** Config.Hostname ('' when unset). */
  hostname: string;
}

/** Docker's 12-character short id. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

function bareName(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/**
 * moby 28's buildEndpointDNSNames: the container's name, its aliases on the network
 * (--network-alias; compose's service names come as aliases), the short id, the hostname;
 * each once, in that order. This is what inspect shows as Networks[...].DNSNames.
 */
export function endpointDnsNames(c: DnsContainer, aliases: readonly string[]): string[] {
  const names: string[] = [];
  if (c.name) names.push(bareName(c.name));
  names.push(...aliases);
  if (c.id) names.push(shortId(c.id));
  if (c.hostname) names.push(c.hostname);
  return [...new Set(names)];
}

/** moby's opts.ParseLink: `name:alias`, `name` (alias = name), or the stored `/name:/parent/alias`. */
export function parseLink(link: string): { name: string; alias: string } {
  const parts = link.split(':');
  if (link === '' || parts.length > 2) throw new Error(`bad format for links: ${link}`);
  if (parts.length === 1) return { name: link, alias: link };
  if (parts[0].startsWith('/')) return { name: parts[0].slice(1), alias: parts[1].slice(parts[1].lastIndexOf('/') + 1) };
  return { name: parts[0], alias: parts[1] };
}

/** Whether a link's target names this container: its name, its id, or an id prefix of 12 or more. */
export function linkTargets(linkName: string, c: DnsContainer): boolean {
  if (linkName === bareName(c.name)) return true;
  return /^[0-9a-f]{12,64}$/.test(linkName) && c.id.startsWith(linkName);
}

/**
 * The aliases `c` is known by through --link on one network: the link of every container
 * running there whose target is `c`. aardvark-dns has no per-asker names, so such an alias
 * resolves for every container on the network, where Docker scopes it to the linking one.
 */
export function linkAliasesFor(c: DnsContainer, linksOnNetwork: readonly (readonly string[])[]): string[] {
  const aliases: string[] = [];
  for (const links of linksOnNetwork) {
    for (const l of links) {
      let parsed;
      try {
        parsed = parseLink(l);
      } catch {
        continue;
      }
      if (linkTargets(parsed.name, c)) aliases.push(parsed.alias);
    }
  }
  return aliases;
}

/**
 * What aardvark-dns answers for the container on one network: its DNSNames, then link aliases;
 * lowercased (aardvark-dns matches lowercase) and without names its config line cannot hold (a
 * space or comma would break the line's fields; DNS labels have neither).
 */
export function aardvarkNames(c: DnsContainer, aliases: readonly string[], linkAliases: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const n of [...endpointDnsNames(c, aliases), ...linkAliases]) {
    const lower = n.toLowerCase();
    if (lower === '' || /[\s,]/.test(lower) || out.includes(lower)) continue;
    out.push(lower);
  }
  return out;
}
