import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import {
  type AllowedHosts,
  allowedHostsMessage,
  bareHostname,
  cidrList,
  ipFamily,
} from './allowed-hosts.js';

/**
 * Where connectors may connect. Names are checked before connecting (allowedHosts, as Kibana);
 * addresses are checked when the connection is made, from one DNS answer, and the socket is
 * opened to an address that passed — so a name cannot resolve to one address for the check and
 * another for the connection. xpack.actions.egress.deny always wins, even over allowedHosts "*",
 * and by default holds the cloud metadata endpoints. Unspecified addresses (0.0.0.0, ::) reach
 * this host itself and are never a vendor.
 */

export const DEFAULT_EGRESS_DENY: readonly string[] = ['169.254.169.254/32', 'fd00:ec2::254/128'];

const UNSPECIFIED = cidrList(['0.0.0.0/8', '::/128']);

export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

interface DenyEntry {
  entry: string;
  test: (address: string, family: 'ipv4' | 'ipv6') => boolean;
}

/** How many admitted hostnames are remembered. */
const ADMITTED_CACHE_SIZE = 1024;

export class EgressGuard {
  private readonly deny: readonly DenyEntry[];
  private readonly admitted = new Set<string>();

  constructor(
    readonly allowedHosts: AllowedHosts,
    denyEntries: readonly string[],
  ) {
    this.deny = denyEntries.map((entry) => {
      const list = cidrList([entry]);
      return { entry, test: (address, family) => list.check(address, family) };
    });
  }

  /** Why this address may not be reached, or undefined when it may. */
  private refuseAddress(
    target: string,
    address: string,
    allowedByName: boolean,
  ): string | undefined {
    const family = ipFamily(address);
    if (family === undefined) return `${target} has no IP address`;
    const denied = this.deny.find((d) => d.test(address, family));
    if (denied !== undefined) {
      return `${target} resolves to ${address}, which xpack.actions.egress.deny refuses (${denied.entry})`;
    }
    if (UNSPECIFIED.check(address, family)) {
      return `${target} resolves to ${address}, an unspecified address, which is never a vendor`;
    }
    if (!allowedByName && !this.allowedHosts.inRange(address)) {
      return `${target} resolves to ${address}, which no entry of xpack.actions.allowedHosts allows`;
    }
    return undefined;
  }

  /**
   * The check made before connecting, on the parsed URL: Kibana's allowedHosts text for a name
   * not allowed, the deny rule for an IP literal that is refused.
   */
  checkUrl(url: URL, original: string, isRedirect: boolean): string | undefined {
    // Settings do not change while the server runs: a host once admitted stays admitted.
    if (this.admitted.has(url.hostname)) return undefined;
    const refusal = this.judge(url, original, isRedirect);
    if (refusal === undefined) {
      if (this.admitted.size >= ADMITTED_CACHE_SIZE) this.admitted.clear();
      this.admitted.add(url.hostname);
    }
    return refusal;
  }

  private judge(url: URL, original: string, isRedirect: boolean): string | undefined {
    const host = bareHostname(url.hostname);
    const kibanaRefusal = isRedirect
      ? allowedHostsMessage('hostname', host)
      : allowedHostsMessage('url', original);
    if (ipFamily(host) !== undefined) {
      const allowedByName = this.allowedHosts.matchesName(host);
      if (!allowedByName && !this.allowedHosts.inRange(host)) return kibanaRefusal;
      return this.refuseAddress(`target url "${isRedirect ? url.href : original}"`, host, true);
    }
    return this.allowedHosts.isHostnameAllowed(host) ? undefined : kibanaRefusal;
  }

  /** A DNS lookup for net.connect that only ever yields addresses this guard allows. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const allowedByName = this.allowedHosts.matchesName(hostname);
    // `name.` is the same name as `name`: resolve it the same way, and judge what it resolves to.
    dnsLookup(
      bareHostname(hostname),
      { all: true, family: options.family ?? 0, hints: options.hints ?? 0 },
      (err, addresses) => {
        if (err) return callback(err, '', 0);
        const usable: LookupAddress[] = [];
        let refusal: string | undefined;
        for (const candidate of addresses) {
          const reason = this.refuseAddress(
            `target hostname "${bareHostname(hostname)}"`,
            candidate.address,
            allowedByName,
          );
          if (reason === undefined) usable.push(candidate);
          else refusal ??= reason;
        }
        const first = usable[0];
        if (first === undefined) {
          return callback(
            new EgressRefusedError(refusal ?? `target hostname "${hostname}" has no address`),
            '',
            0,
          );
        }
        if ((options as { all?: boolean }).all) {
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
        }
        callback(null, first.address, first.family);
      },
    );
  };
}
