import { notFound } from '../errors.js';
import type { StoredUser, UserRepository } from '../store/types.js';
import type { Authenticator } from './authenticator.js';
import {
  ensureNoReservedMetadata,
  ensureSecurityAction,
  illegalArgument,
  securityException,
  validationFailed,
} from './es-errors.js';
import { hashSecret, verifySecret } from './passwords.js';
import type { Principal } from './principal.js';

/**
 * The native realm behind Kibana's users routes (`/internal/security/users`): users with
 * passwords (scrypt hashes), roles, and Elasticsearch's rules and texts for them. The built-in
 * `elastic` user is reserved: it is listed, but its roles cannot change and its password comes
 * from ELASTIC_PASSWORD.
 */

/** Elasticsearch's minimum password length for the native realm. */
export const MIN_PASSWORD_LENGTH = 6;

/** Users Elasticsearch reserves: they cannot be created, changed (but for passwords) or deleted. */
const RESERVED_USERNAMES = new Set([
  'elastic',
  'kibana',
  'kibana_system',
  'logstash_system',
  'beats_system',
  'apm_system',
  'remote_monitoring_user',
]);

export interface UserView {
  username: string;
  roles: string[];
  full_name: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  enabled: boolean;
}

export interface UserInput {
  password?: string;
  roles: string[];
  full_name?: string | null;
  email?: string | null;
  metadata?: Record<string, unknown>;
  enabled: boolean;
}

const passwordTooShort = () =>
  validationFailed(`passwords must be at least [${MIN_PASSWORD_LENGTH}] characters long`);

function view(user: StoredUser): UserView {
  return {
    username: user.username,
    roles: [...user.roles],
    full_name: user.fullName,
    email: user.email,
    metadata: user.metadata,
    enabled: user.enabled,
  };
}

export class Users {
  constructor(
    private readonly repo: UserRepository,
    private readonly authenticator: Authenticator,
  ) {}

  private builtinView(username: string): UserView | undefined {
    const builtin = this.authenticator.builtinUser(username);
    if (builtin === undefined) return undefined;
    return {
      username,
      roles: [...builtin.roles],
      full_name: null,
      email: null,
      metadata: { _reserved: true },
      enabled: true,
    };
  }

  async get(principal: Principal, username: string): Promise<UserView> {
    ensureSecurityAction(principal, 'getUsers');
    const builtin = this.builtinView(username);
    if (builtin !== undefined) return builtin;
    const user = await this.repo.get(username);
    if (user === undefined) throw notFound();
    return view(user);
  }

  async list(principal: Principal): Promise<UserView[]> {
    ensureSecurityAction(principal, 'getUsers');
    const builtin = [...RESERVED_USERNAMES].flatMap((name) => this.builtinView(name) ?? []);
    return [...builtin, ...(await this.repo.list()).map(view)];
  }

  async put(principal: Principal, username: string, input: UserInput): Promise<void> {
    ensureSecurityAction(principal, 'putUser');
    if (RESERVED_USERNAMES.has(username)) {
      throw illegalArgument(`user [${username}] is reserved and only the password can be changed`);
    }
    ensureNoReservedMetadata(input.metadata);
    const existing = await this.repo.get(username);
    if (input.password === undefined && existing === undefined) {
      throw validationFailed('password must be specified unless you are updating an existing user');
    }
    if (input.password !== undefined && input.password.length < MIN_PASSWORD_LENGTH) {
      throw passwordTooShort();
    }
    await this.repo.put({
      username,
      passwordHash:
        input.password !== undefined
          ? await hashSecret(input.password)
          : (existing as StoredUser).passwordHash,
      roles: input.roles,
      fullName: input.full_name ?? null,
      email: input.email ?? null,
      metadata: input.metadata ?? {},
      enabled: input.enabled,
    });
    // Roles may have changed, and keys made before limits were recorded follow their owner's.
    this.authenticator.forgetAll();
  }

  async delete(principal: Principal, username: string): Promise<void> {
    ensureSecurityAction(principal, 'deleteUser');
    if (RESERVED_USERNAMES.has(username)) {
      throw illegalArgument(`user [${username}] is reserved and cannot be deleted`);
    }
    const deleted = await this.repo.delete(username);
    // Forget even when nothing was deleted: a verification may have raced with the delete.
    this.authenticator.forgetUser(username);
    if (!deleted) throw notFound();
  }

  /**
   * Kibana's change-password route: users changing their own password prove they know the
   * current one (403 otherwise); changing another user's needs manage_security.
   */
  async changePassword(
    principal: Principal,
    username: string,
    input: { password?: string; newPassword: string },
  ): Promise<void> {
    const own =
      principal.username === username &&
      principal.authenticationType === 'basic' &&
      principal.apiKey === undefined;
    const path = `/_security/user/${username}/_password`;
    if (own) {
      const current = input.password ?? '';
      const builtin = this.authenticator.builtinUser(username);
      const stored = builtin === undefined ? await this.repo.get(username) : undefined;
      const knows =
        builtin !== undefined
          ? await builtin.verifyPassword(current)
          : stored !== undefined && (await verifySecret(current, stored.passwordHash));
      if (!knows) {
        // Elasticsearch's 401 for the proof, answered as a 403 as Kibana does.
        throw securityException(
          403,
          `unable to authenticate user [${username}] for REST request [${path}]`,
        );
      }
    } else {
      ensureSecurityAction(principal, 'changePassword');
    }
    if (input.newPassword.length < MIN_PASSWORD_LENGTH) throw passwordTooShort();
    if (this.authenticator.builtinUser(username) !== undefined) {
      throw illegalArgument(
        `user [${username}] takes its password from the ELASTIC_PASSWORD environment variable; change it there and restart`,
      );
    }
    if (RESERVED_USERNAMES.has(username) || (await this.repo.get(username)) === undefined) {
      throw validationFailed('user must exist in order to change password');
    }
    await this.repo.setPassword(username, await hashSecret(input.newPassword));
    this.authenticator.forgetUser(username);
  }
}
