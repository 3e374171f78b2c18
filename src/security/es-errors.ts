import { HttpError } from '../errors.js';
import type { Principal } from './principal.js';
import type { ClusterPrivilege } from './privileges.js';

/**
 * Elasticsearch answers the security APIs Kibana calls; Kibana passes its errors through with
 * their status and the client's message form `[<type>\n\tRoot causes:...]: <reason>`. The texts
 * below are Elasticsearch's.
 */
export function esError(statusCode: number, type: string, reason: string): HttpError {
  return new HttpError(statusCode, `[${type}\n\tRoot causes:\n\t\t${type}: ${reason}]: ${reason}`);
}

export const securityException = (statusCode: number, reason: string) =>
  esError(statusCode, 'security_exception', reason);

export const illegalArgument = (reason: string) =>
  esError(400, 'illegal_argument_exception', reason);

/** Elasticsearch's request validation failure: `Validation Failed: 1: <reason>;`. */
export const validationFailed = (...reasons: string[]) =>
  esError(
    400,
    'action_request_validation_exception',
    `Validation Failed: ${reasons.map((r, i) => `${i + 1}: ${r};`).join('')}`,
  );

/** Elasticsearch keeps metadata keys starting with `_` (such as `_reserved`) for itself. */
export function ensureNoReservedMetadata(metadata: Record<string, unknown> | undefined): void {
  if (metadata !== undefined && Object.keys(metadata).some((k) => k.startsWith('_'))) {
    throw validationFailed('metadata keys may not start with [_]');
  }
}

/** The Elasticsearch security actions behind Kibana's identity routes. */
export const SECURITY_ACTIONS = {
  putUser: ['cluster:admin/xpack/security/user/put', 'manage_security'],
  getUsers: ['cluster:admin/xpack/security/user/get', 'read_security'],
  deleteUser: ['cluster:admin/xpack/security/user/delete', 'manage_security'],
  changePassword: ['cluster:admin/xpack/security/user/change_password', 'manage_security'],
  putRole: ['cluster:admin/xpack/security/role/put', 'manage_security'],
  getRoles: ['cluster:admin/xpack/security/role/get', 'read_security'],
  deleteRole: ['cluster:admin/xpack/security/role/delete', 'manage_security'],
  createApiKey: ['cluster:admin/xpack/security/api_key/create', 'manage_own_api_key'],
  getApiKeys: ['cluster:admin/xpack/security/api_key/get', 'manage_own_api_key'],
  queryApiKeys: ['cluster:admin/xpack/security/api_key/query', 'manage_own_api_key'],
  invalidateApiKeys: ['cluster:admin/xpack/security/api_key/invalidate', 'manage_own_api_key'],
} as const satisfies Record<string, readonly [string, ClusterPrivilege]>;

export type SecurityAction = keyof typeof SECURITY_ACTIONS;

/** The cluster privileges that grant a required one, in the order Elasticsearch lists them. */
const GRANTED_BY: Record<ClusterPrivilege, string> = {
  manage_security: 'manage_security,all',
  read_security: 'read_security,manage_security,all',
  manage_api_key: 'manage_api_key,manage_security,all',
  manage_own_api_key: 'manage_own_api_key,manage_api_key,manage_security,all',
};

export function unauthorizedAction(
  principal: Principal,
  action: string,
  privilege: ClusterPrivilege,
): HttpError {
  const who =
    principal.apiKey !== undefined
      ? `API key id [${principal.apiKey.id}] of user [${principal.username}]`
      : `user [${principal.username}] with effective roles [${principal.roles.join(',')}]`;
  return securityException(
    403,
    `action [${action}] is unauthorized for ${who}, this action is granted by the cluster privileges [${GRANTED_BY[privilege]}]`,
  );
}

/** Throws Elasticsearch's 403 unless the caller holds the cluster privilege the action needs. */
export function ensureSecurityAction(
  principal: Principal,
  name: SecurityAction,
  privilege?: ClusterPrivilege,
): void {
  const [action, needed] = SECURITY_ACTIONS[name];
  const required = privilege ?? needed;
  if (!principal.privileges.cluster(required)) {
    throw unauthorizedAction(principal, action, required);
  }
}
