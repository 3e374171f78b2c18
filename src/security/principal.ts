import type { PrivilegeSet } from './privileges.js';

/** Who is calling, once authenticated. */
export interface Principal {
  username: string;
  roles: readonly string[];
  authenticationType: 'basic' | 'api_key';
  /** `reserved` (the built-in elastic user), `native` (users made with the users API). */
  realm: 'reserved' | 'native';
  /** What the caller may do, resolved from its roles (and its API key's descriptors). */
  privileges: PrivilegeSet;
  /** Set when the caller used an API key. */
  apiKey?: { id: string; name: string };
}

export const SUPERUSER_ROLE = 'superuser';
