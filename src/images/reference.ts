// Image names parsed and normalised exactly like Docker's distribution/reference
// (ParseNormalizedNamed + TagNameOnly), so that 'busybox', 'library/busybox' and
// 'docker.io/library/busybox:latest' all name the same thing and errors read the same.
import { InvalidParameterError } from '../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution/reference/regexp.go.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredIdentifierRe = /^[a-f0-9]{64}$/;
const anchoredTagRe = new RegExp(`^${tagPattern}$`);
const anchoredDigestRe = new RegExp(`^${digestPattern}$`);

export interface ImageReference {
  /** Registry host, e.g. 'docker.io' or '127.0.0.1:5000'. */
  domain: string;
  /** Repository path inside the registry, e.g. 'library/busybox'. */
  path: string;
  tag?: string;
  digest?: string;
}

export function referenceName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The fully normalised string: 'docker.io/library/busybox:latest', 'x/y@sha256:...'. */
export function referenceString(ref: ImageReference): string {
  let s = referenceName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parse a user-supplied name the way Docker does. Does not add a default tag
 * (see withDefaultTag); throws InvalidParameterError with Docker's messages.
 */
export function parseNormalizedNamed(s: string): ImageReference {
  if (anchoredIdentifierRe.test(s)) {
    throw new InvalidParameterError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new InvalidParameterError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseFull(`${domain}/${remainder}`);
}

function parseFull(s: string): ImageReference {
  const m = referenceRe.exec(s);
  if (!m) {
    if (s === '') throw new InvalidParameterError('invalid reference format');
    if (referenceRe.test(s.toLowerCase())) throw new InvalidParameterError('invalid reference format: repository name must be lowercase');
    throw new InvalidParameterError('invalid reference format');
  }
  const name = m[1];
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidParameterError(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const slash = name.indexOf('/');
  const ref: ImageReference = { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = m[3];
  return ref;
}

/** reference.TagNameOnly: a name without tag or digest gets ':latest'. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/** Parse and normalise in one go: 'busybox' -> docker.io/library/busybox:latest. */
export function normalize(s: string): ImageReference {
  return withDefaultTag(parseNormalizedNamed(s));
}

export function isValidTag(tag: string): boolean {
  return anchoredTagRe.test(tag);
}

export function isValidDigest(d: string): boolean {
  return anchoredDigestRe.test(d);
}

/** The short name Docker prints: 'busybox:latest', '127.0.0.1:5000/busybox:latest'. */
export function familiarName(ref: ImageReference): string {
  let name: string;
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !ref.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')
      ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
      : ref.path;
  } else {
    name = `${ref.domain}/${ref.path}`;
  }
  return name;
}

export function familiarString(ref: ImageReference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Turn a normalised reference string back into the short form; unparsable strings come back as they are. */
export function familiar(normalised: string): string {
  try {
    return familiarString(parseNormalizedNamed(normalised));
  } catch {
    return normalised;
  }
}
