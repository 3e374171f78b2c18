import { forbidden } from '../errors.js';
import type { Principal } from './principal.js';
import type { KibanaAction } from './privileges.js';

/**
 * Kibana's "Actions and Connectors" feature privileges, checked per space by the connectors
 * client after the request body has been validated: `read` may get, list and execute; `all` may
 * also create, update and delete. EDR connector types (sub-feature `endpointSecurity`) need the
 * sub-feature's execute privilege, and over HTTP, for every sub-action the type does not list as
 * read-only, the response-actions privilege only a wildcard role holds (Kibana's
 * getKibanaPrivileges of SentinelOne, CrowdStrike and Microsoft Defender).
 */
export type ActionsOperation = 'create' | 'get' | 'update' | 'delete' | 'execute';

/** Extra privileges an execution needs beyond `read`. */
export type ExecutePrivilege = Extract<
  KibanaAction,
  'actions:endpoint_security_execute' | 'actions:endpoint_security_sub_actions'
>;

export function unauthorizedMessage(operation: string, typeId?: string): string {
  return typeId === undefined
    ? `Unauthorized to ${operation} actions`
    : `Unauthorized to ${operation} a "${typeId}" action`;
}

export interface Authorization {
  /** Throws Kibana's 403 when the caller may not do this in this space. */
  ensureActions(
    principal: Principal,
    spaceId: string,
    operation: ActionsOperation,
    typeId?: string,
    additional?: readonly ExecutePrivilege[],
  ): void;
  /** Managing spaces (create, update, delete) is a global privilege. */
  ensureManageSpaces(principal: Principal, operation: string): void;
  /** Whether the caller holds any Kibana privilege in the space. */
  canAccessSpace(principal: Principal, spaceId: string): boolean;
  /** Routes Kibana reserves for superusers (`requiredPrivileges: [superuser]`). */
  ensureSuperuser(principal: Principal, method: string, path: string): void;
}

const WRITES: ReadonlySet<ActionsOperation> = new Set(['create', 'update', 'delete']);

/** The extra privileges an HTTP `_execute` of a connector of this type needs. */
export function executePrivileges(
  type: { subFeature?: string; readOnlySubActions?: readonly string[] },
  params: unknown,
): ExecutePrivilege[] {
  if (type.subFeature !== 'endpointSecurity') return [];
  const subAction =
    typeof params === 'object' && params !== null
      ? (params as { subAction?: unknown }).subAction
      : undefined;
  const readOnly = typeof subAction === 'string' && type.readOnlySubActions?.includes(subAction);
  return readOnly
    ? ['actions:endpoint_security_execute']
    : ['actions:endpoint_security_execute', 'actions:endpoint_security_sub_actions'];
}

export class KibanaAuthorization implements Authorization {
  ensureActions(
    principal: Principal,
    spaceId: string,
    operation: ActionsOperation,
    typeId?: string,
    additional: readonly ExecutePrivilege[] = [],
  ): void {
    const needed: KibanaAction = WRITES.has(operation) ? 'actions:all' : 'actions:read';
    const privileges = principal.privileges;
    if (
      !privileges.kibana(needed, spaceId) ||
      additional.some((extra) => !privileges.kibana(extra, spaceId))
    ) {
      throw forbidden(unauthorizedMessage(operation, typeId));
    }
  }

  ensureManageSpaces(principal: Principal, operation: string): void {
    if (!principal.privileges.kibana('spaces:manage')) {
      throw forbidden(`Unauthorized to ${operation} spaces`);
    }
  }

  canAccessSpace(principal: Principal, spaceId: string): boolean {
    return principal.privileges.kibana('login', spaceId);
  }

  ensureSuperuser(principal: Principal, method: string, path: string): void {
    if (!principal.privileges.superuser) {
      throw forbidden(
        `API [${method} ${path}] is unauthorized for user, this action is granted by the Kibana privileges [superuser]`,
      );
    }
  }
}
