import { forbidden } from '../errors.js';
import type { Principal } from './principal.js';
import { SUPERUSER_ROLE } from './principal.js';

/**
 * Kibana's "Actions and Connectors" feature privileges, checked per space by the connectors
 * client after the request body has been validated.
 */
export type ActionsOperation = 'create' | 'get' | 'update' | 'delete' | 'execute';

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
  ): void;
  /** Managing spaces (create, update, delete) is a global privilege. */
  ensureManageSpaces(principal: Principal, operation: string): void;
}

/** Superusers may do anything; every other caller is refused. */
export class SuperuserOnlyAuthorization implements Authorization {
  ensureActions(
    principal: Principal,
    _spaceId: string,
    operation: ActionsOperation,
    typeId?: string,
  ): void {
    if (!principal.roles.includes(SUPERUSER_ROLE))
      throw forbidden(unauthorizedMessage(operation, typeId));
  }

  ensureManageSpaces(principal: Principal, operation: string): void {
    if (!principal.roles.includes(SUPERUSER_ROLE))
      throw forbidden(`Unauthorized to ${operation} spaces`);
  }
}
