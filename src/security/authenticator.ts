import { createHash, hash, timingSafeEqual } from 'node:crypto';
import type { HttpError } from '../errors.js';
import type { ApiKeyRepository, UserRepository } from '../store/types.js';
import { securityException } from './es-errors.js';
import { verifySecret } from './passwords.js';
import type { Principal } from './principal.js';
import { PrivilegeSet, toRoleDescriptor } from './privileges.js';
import type { Roles } from './roles.js';

/**
 * HTTP authentication as Kibana's security plugin does it for API clients:
 * `Authorization: Basic base64(user:password)` and `Authorization: ApiKey base64(id:key)`.
 * Users are the built-in `elastic` (password from the environment, in memory only) and the users
 * of the native realm (the users API, passwords stored as scrypt hashes).
 *
 * Secrets are stored as slow hashes, so a verified header is remembered for a while (as
 * Elasticsearch's realm cache does) under a digest of the header, never the header itself. The
 * cache forgets a user the moment its password changes or it is deleted, an API key the moment it
 * is invalidated, and everything when roles change.
 */

export interface BuiltinUser {
  username: string;
  roles: readonly string[];
  verifyPassword(password: string): Promise<boolean>;
}

/** A user whose password comes from the environment and lives only in memory. */
export function builtinUser(
  username: string,
  password: string,
  roles: readonly string[],
): BuiltinUser {
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

export const userAuthenticationFailed = (username: string, path = '/_security/_authenticate') =>
  securityException(401, `unable to authenticate user [${username}] for REST request [${path}]`);

export const credentialsAuthenticationFailed = () =>
  securityException(
    401,
    'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
  );

/** Thrown for bad credentials: the 401 answer, and who the header claimed to be (no secret). */
export class AuthenticationError extends Error {
  constructor(
    readonly response: HttpError,
    readonly claimed: { username?: string; apiKeyId?: string; scheme: 'basic' | 'apikey' },
  ) {
    super(response.message);
    this.name = 'AuthenticationError';
  }
}

interface CacheEntry {
  principal: Principal;
  expiresAt: number;
}

/**
 * The header a connection was last admitted with, the verification it matched and the cache
 * generation it was found in. A client on a keep-alive connection sends the same header with every
 * request; matched against this, the request skips the SHA-256 of the header that finds its cache
 * entry, which took 3.4 us of a paced `.server-log` run's request thread (`perf`; 0.5 us in a loop
 * of its own). Every forget bumps the generation, so what stops credentials in the cache stops
 * them on every connection too. The header stays with the connection that sent it, as that
 * connection's request headers do, and goes with it.
 */
interface ConnectionMemo {
  header: string;
  entry: CacheEntry;
  generation: number;
}

const CONNECTION_MEMO = Symbol('kcs.credentials');
type Connection = { [CONNECTION_MEMO]?: ConnectionMemo };

export interface AuthenticatorDeps {
  builtinUsers: readonly BuiltinUser[];
  users: UserRepository;
  apiKeys: ApiKeyRepository;
  roles: Roles;
}

export class Authenticator {
  private readonly builtin: ReadonlyMap<string, BuiltinUser>;
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped by every forget: a verification that started before it is not remembered. */
  private generation = 0;

  constructor(private readonly deps: AuthenticatorDeps) {
    this.builtin = new Map(deps.builtinUsers.map((u) => [u.username, u]));
  }

  builtinUser(username: string): BuiltinUser | undefined {
    return this.builtin.get(username);
  }

  /**
   * The caller behind a header verified recently, without waiting: undefined when the header
   * carries no credentials this server understands, null when it must go through authenticate().
   * `connection` (the request's socket) remembers what it was last admitted with (ConnectionMemo).
   */
  recall(header: string | undefined, connection?: object): Principal | undefined | null {
    if (header === undefined) return undefined;
    const now = Date.now();
    const memo = (connection as Connection | undefined)?.[CONNECTION_MEMO];
    if (
      memo !== undefined &&
      memo.header === header &&
      memo.generation === this.generation &&
      memo.entry.expiresAt > now
    ) {
      return memo.entry.principal;
    }
    const space = header.indexOf(' ');
    if (space <= 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    if (scheme !== 'basic' && scheme !== 'apikey') return undefined;
    const cached = this.cache.get(hash('sha256', header, 'base64url'));
    if (cached === undefined || cached.expiresAt <= now) return null;
    if (connection !== undefined) {
      (connection as Connection)[CONNECTION_MEMO] = {
        header,
        entry: cached,
        generation: this.generation,
      };
    }
    return cached.principal;
  }

  /**
   * The caller behind an Authorization header; undefined when the request carries no credentials
   * this server understands. Bad credentials throw an AuthenticationError.
   */
  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    if (header === undefined) return undefined;
    const space = header.indexOf(' ');
    if (space <= 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    if (scheme !== 'basic' && scheme !== 'apikey') return undefined;

    const digest = hash('sha256', header, 'base64url');
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
    const generation = this.generation;
    const entry =
      scheme === 'basic' ? await this.basic(name, secret) : await this.apiKey(name, secret);
    if (generation === this.generation) this.remember(digest, entry);
    return entry.principal;
  }

  /** Forget a user's verified passwords (password changed, user changed or deleted). */
  forgetUser(username: string): void {
    this.generation += 1;
    for (const [digest, entry] of this.cache) {
      if (entry.principal.username === username && entry.principal.apiKey === undefined) {
        this.cache.delete(digest);
      }
    }
  }

  /** Forget cached verifications of an API key (after it is invalidated). */
  forgetApiKey(id: string): void {
    this.generation += 1;
    for (const [digest, entry] of this.cache) {
      if (entry.principal.apiKey?.id === id) this.cache.delete(digest);
    }
  }

  /** Forget everything (roles changed, so every caller's privileges may have). */
  forgetAll(): void {
    this.generation += 1;
    this.cache.clear();
  }

  /** The privileges a user with these roles holds. */
  async privilegesOf(roles: readonly string[]): Promise<PrivilegeSet> {
    return PrivilegeSet.ofRoles(
      Object.values(await this.deps.roles.descriptors(roles)).map(toRoleDescriptor),
    );
  }

  private remember(digest: string, entry: CacheEntry): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(digest, entry);
  }

  private async basic(username: string, password: string | undefined): Promise<CacheEntry> {
    const fail = () =>
      new AuthenticationError(userAuthenticationFailed(username), { username, scheme: 'basic' });
    if (password === undefined) throw fail();
    const builtin = this.builtin.get(username);
    let roles: readonly string[];
    let realm: Principal['realm'];
    if (builtin !== undefined) {
      if (!(await builtin.verifyPassword(password))) throw fail();
      roles = builtin.roles;
      realm = 'reserved';
    } else {
      const user = await this.deps.users.get(username);
      if (
        user === undefined ||
        !user.enabled ||
        !(await verifySecret(password, user.passwordHash))
      ) {
        throw fail();
      }
      roles = user.roles;
      realm = 'native';
    }
    return {
      principal: {
        username,
        roles,
        realm,
        authenticationType: 'basic',
        privileges: await this.privilegesOf(roles),
      },
      expiresAt: Date.now() + CACHE_TTL_MS,
    };
  }

  private async ownerRoles(username: string): Promise<readonly string[]> {
    const builtin = this.builtin.get(username);
    if (builtin !== undefined) return builtin.roles;
    return (await this.deps.users.get(username))?.roles ?? [];
  }

  private async apiKey(id: string, secret: string | undefined): Promise<CacheEntry> {
    const key = secret === undefined ? undefined : await this.deps.apiKeys.get(id);
    const now = Date.now();
    if (
      key === undefined ||
      secret === undefined ||
      key.invalidated ||
      (key.expiration !== null && key.expiration <= now) ||
      !(await verifySecret(secret, key.hash))
    ) {
      throw new AuthenticationError(credentialsAuthenticationFailed(), {
        apiKeyId: id,
        scheme: 'apikey',
      });
    }
    const ownerRoles = await this.ownerRoles(key.username);
    const limitedBy =
      key.limitedBy !== null
        ? Object.values(key.limitedBy).map(toRoleDescriptor)
        : Object.values(await this.deps.roles.descriptors(ownerRoles)).map(toRoleDescriptor);
    const own = Object.values(key.roleDescriptors).map(toRoleDescriptor);
    const expiresAt = Math.min(now + CACHE_TTL_MS, key.expiration ?? Number.POSITIVE_INFINITY);
    return {
      principal: {
        username: key.username,
        roles: ownerRoles,
        realm: key.realm === 'native' ? 'native' : 'reserved',
        authenticationType: 'api_key',
        privileges: PrivilegeSet.ofApiKey(own, limitedBy),
        apiKey: { id: key.id, name: key.name },
      },
      expiresAt,
    };
  }
}
