import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../errors.js';
import type { ApiKeyRepository } from '../store/types.js';
import { verifySecret } from './passwords.js';
import { type Principal, SUPERUSER_ROLE } from './principal.js';

/**
 * HTTP authentication as Kibana's security plugin does it for API clients:
 * `Authorization: Basic base64(user:password)` and `Authorization: ApiKey base64(id:key)`.
 *
 * Secrets are stored as slow hashes, so a verified header is remembered for a while (as
 * Elasticsearch's realm cache does) under a digest of the header, never the header itself.
 */

export interface User {
  username: string;
  roles: readonly string[];
  verifyPassword(password: string): Promise<boolean>;
}

/** A user whose password comes from the environment and lives only in memory. */
export function builtinUser(username: string, password: string, roles: readonly string[]): User {
  const expected = createHash('sha256').update(password).digest();
  return {
    username,
    roles,
    async verifyPassword(given) {
      return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
    },
  };
}

const CACHE_TTL_MS = 20 * 60 * 1000;
const CACHE_MAX_ENTRIES = 10_000;

function securityException(reason: string): HttpError {
  return new HttpError(
    401,
    `[security_exception\n\tRoot causes:\n\t\tsecurity_exception: ${reason}]: ${reason}`,
  );
}

export const userAuthenticationFailed = (username: string) =>
  securityException(
    `unable to authenticate user [${username}] for REST request [/_security/_authenticate]`,
  );

export const credentialsAuthenticationFailed = () =>
  securityException(
    'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
  );

interface CacheEntry {
  principal: Principal;
  expiresAt: number;
}

export class Authenticator {
  private readonly users: ReadonlyMap<string, User>;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    users: readonly User[],
    private readonly apiKeys: ApiKeyRepository,
  ) {
    this.users = new Map(users.map((u) => [u.username, u]));
  }

  /**
   * The caller behind an Authorization header; undefined when the request carries no credentials
   * this server understands. Bad credentials throw a 401.
   */
  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    if (header === undefined) return undefined;
    const space = header.indexOf(' ');
    if (space <= 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    if (scheme !== 'basic' && scheme !== 'apikey') return undefined;

    const digest = createHash('sha256').update(header).digest('base64url');
    const cached = this.cache.get(digest);
    const now = Date.now();
    if (cached !== undefined) {
      if (cached.expiresAt > now) return cached.principal;
      this.cache.delete(digest);
    }
    const credentials = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8');
    const colon = credentials.indexOf(':');
    const name = colon < 0 ? credentials : credentials.slice(0, colon);
    const secret = colon < 0 ? undefined : credentials.slice(colon + 1);
    const entry =
      scheme === 'basic' ? await this.basic(name, secret) : await this.apiKey(name, secret);
    this.remember(digest, entry);
    return entry.principal;
  }

  /** Forget cached verifications of an API key (after it is invalidated). */
  forgetApiKey(id: string): void {
    for (const [digest, entry] of this.cache) {
      if (entry.principal.apiKey?.id === id) this.cache.delete(digest);
    }
  }

  private remember(digest: string, entry: CacheEntry): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(digest, entry);
  }

  private async basic(username: string, password: string | undefined): Promise<CacheEntry> {
    const user = this.users.get(username);
    if (user === undefined || password === undefined || !(await user.verifyPassword(password))) {
      throw userAuthenticationFailed(username);
    }
    return {
      principal: { username, roles: user.roles, authenticationType: 'basic' },
      expiresAt: Date.now() + CACHE_TTL_MS,
    };
  }

  private async apiKey(id: string, secret: string | undefined): Promise<CacheEntry> {
    const key = secret === undefined ? undefined : await this.apiKeys.get(id);
    const now = Date.now();
    if (
      key === undefined ||
      secret === undefined ||
      key.invalidated ||
      (key.expiration !== null && key.expiration <= now) ||
      !(await verifySecret(secret, key.hash))
    ) {
      throw credentialsAuthenticationFailed();
    }
    const owner = this.users.get(key.username);
    const expiresAt = Math.min(now + CACHE_TTL_MS, key.expiration ?? Number.POSITIVE_INFINITY);
    return {
      principal: {
        username: key.username,
        roles: owner?.roles ?? [],
        authenticationType: 'api_key',
        apiKey: { id: key.id, name: key.name },
      },
      expiresAt,
    };
  }
}

export function isSuperuser(principal: Principal): boolean {
  return principal.roles.includes(SUPERUSER_ROLE);
}
