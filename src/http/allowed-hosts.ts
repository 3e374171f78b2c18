import { BlockList, isIP } from 'node:net';

/**
 * xpack.actions.allowedHosts, as Kibana applies it: a URL is parsed and its hostname compared with
 * the list (exact, case-insensitive; a lone "*" allows everything; an unparsable URL is never
 * allowed). Beyond Kibana, an entry may be a wildcard (`*.example.com`, any subdomain) or a CIDR
 * range (`10.0.0.0/8`): a host named by a DNS name is then judged by the addresses it resolves
 * to, when the connection is made (see egress.ts).
 */
export const ALLOW_ALL = '*';

export function allowedHostsMessage(kind: 'url' | 'hostname', value: string): string {
  return `target ${kind} "${value}" is not added to the Kibana config xpack.actions.allowedHosts`;
}

/** An IP family for net.BlockList, or undefined when the text is not an IP address. */
export function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Hostname as the URL parser gives it, without IPv6 brackets or a trailing dot. */
export function bareHostname(hostname: string): string {
  const unbracketed = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return unbracketed.endsWith('.')
    ? unbracketed.slice(0, -1).toLowerCase()
    : unbracketed.toLowerCase();
}

/** Parse `a.b.c.d/n` or `x::y/n` (a bare address is a single host) into a BlockList. */
export function cidrList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) addCidr(list, entry);
  return list;
}

export function isCidr(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined || address === undefined || ipFamily(address) === undefined) return false;
  if (prefix === undefined) return false;
  const bits = Number(prefix);
  return Number.isInteger(bits) && bits >= 0 && bits <= (ipFamily(address) === 'ipv4' ? 32 : 128);
}

function addCidr(list: BlockList, entry: string): void {
  const [address, prefix] = entry.split('/') as [string, string | undefined];
  const family = ipFamily(address);
  if (family === undefined) throw new Error(`"${entry}" is not an IP address or CIDR range`);
  const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
  list.addSubnet(address, bits, family);
}

export class AllowedHosts {
  private readonly all: boolean;
  private readonly exact: ReadonlySet<string>;
  private readonly suffixes: readonly string[];
  private readonly ranges: BlockList;
  readonly hasRanges: boolean;

  constructor(list: readonly string[]) {
    this.all = list.includes(ALLOW_ALL);
    const names = list.filter((h) => h !== ALLOW_ALL && !isCidr(h));
    this.exact = new Set(names.filter((h) => !h.startsWith('*.')).map((h) => bareHostname(h)));
    this.suffixes = names.filter((h) => h.startsWith('*.')).map((h) => bareHostname(h.slice(1)));
    const cidrs = list.filter(isCidr);
    this.ranges = cidrList(cidrs);
    this.hasRanges = cidrs.length > 0;
  }

  get allowsAll(): boolean {
    return this.all;
  }

  /** Allowed by name (exact or wildcard), or, for an IP literal, by a CIDR range. */
  matchesName(hostname: string): boolean {
    const host = bareHostname(hostname);
    if (this.all || this.exact.has(host)) return true;
    if (this.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length))
      return true;
    return this.inRange(host);
  }

  /** Whether an address lies in one of the allowed CIDR ranges. */
  inRange(address: string): boolean {
    const family = ipFamily(address);
    return family !== undefined && this.hasRanges && this.ranges.check(address, family);
  }

  /**
   * Allowed as far as the name tells: matched by name, or a DNS name that allowed CIDR ranges may
   * still admit once resolved.
   */
  isHostnameAllowed(hostname: string): boolean {
    const host = bareHostname(hostname);
    return this.matchesName(host) || (this.hasRanges && ipFamily(host) === undefined);
  }

  isUriAllowed(uri: string): boolean {
    const hostname = hostnameOf(uri);
    return hostname !== undefined && this.isHostnameAllowed(hostname);
  }

  /** Throws Kibana's error when the URL's host is not allowed. */
  ensureUriAllowed(uri: string): void {
    if (!this.isUriAllowed(uri)) throw new Error(allowedHostsMessage('url', uri));
  }

  ensureHostnameAllowed(hostname: string): void {
    if (!this.isHostnameAllowed(hostname))
      throw new Error(allowedHostsMessage('hostname', hostname));
  }
}

function hostnameOf(uri: string): string | undefined {
  try {
    return new URL(uri).hostname;
  } catch {
    return undefined;
  }
}
