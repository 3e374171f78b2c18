/**
 * xpack.actions.allowedHosts, as Kibana applies it: a URL is parsed and only its hostname is
 * compared with the list (exact match, or a lone "*" allowing everything). An unparsable URL is
 * never allowed.
 */
export const ALLOW_ALL = '*';

export function allowedHostsMessage(kind: 'url' | 'hostname', value: string): string {
  return `target ${kind} "${value}" is not added to the Kibana config xpack.actions.allowedHosts`;
}

export class AllowedHosts {
  private readonly hosts: ReadonlySet<string>;
  private readonly all: boolean;

  constructor(list: readonly string[]) {
    this.all = list.includes(ALLOW_ALL);
    this.hosts = new Set(list.map((h) => h.toLowerCase()));
  }

  isHostnameAllowed(hostname: string): boolean {
    return this.all || this.hosts.has(hostname.toLowerCase());
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
    const { hostname } = new URL(uri);
    // WHATWG keeps IPv6 literals bracketed; the allowed list names them bare.
    return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  } catch {
    return undefined;
  }
}
