import type { KibanaPrivilegeEntry } from '../store/types.js';

/**
 * Kibana's privilege model, evaluated the way Elasticsearch evaluates application privileges.
 *
 * A role grants Kibana privileges as Elasticsearch application privileges of the application
 * `kibana-.kibana` on resources `*` (every space) or `space:<id>`: global base privileges `all`
 * and `read`, space base privileges `space_all` and `space_read`, and feature privileges
 * `feature_<feature>.<privilege>`. Each privilege stands for a set of actions; a caller may do
 * something in a space when one of its roles grants a privilege holding that action on a resource
 * matching the space. An API key is limited twice: by its own role descriptors (when it has any)
 * and by its owner's roles when it was made; an action must pass both.
 */

export const KIBANA_APPLICATION = 'kibana-.kibana';
export const GLOBAL_RESOURCE = '*';

export interface ApplicationPrivilege {
  application: string;
  privileges: string[];
  resources: string[];
}

/** What authorization needs of an Elasticsearch role descriptor. */
export interface RoleDescriptor {
  cluster: string[];
  applications: ApplicationPrivilege[];
}

/**
 * The actions this server checks. `actions:*` are the "Actions and Connectors" feature:
 * `read` (get, list, execute), `all` (create, update, delete), the Endpoint Security sub-feature
 * (`endpoint_security_execute`, part of `all`), and the response-actions privilege EDR sub-actions
 * need over HTTP, which no feature privilege grants (only a wildcard role such as superuser).
 * `spaces:manage` belongs to the global `all` base privilege; `login` to any privilege at all.
 */
export type KibanaAction =
  | 'actions:read'
  | 'actions:all'
  | 'actions:endpoint_security_execute'
  | 'actions:endpoint_security_sub_actions'
  | 'spaces:manage'
  | 'login';

const ACTIONS_ALL: readonly KibanaAction[] = [
  'login',
  'actions:read',
  'actions:all',
  'actions:endpoint_security_execute',
];
const ACTIONS_READ: readonly KibanaAction[] = ['login', 'actions:read'];
const ACTIONS_GLOBAL_ALL: readonly KibanaAction[] = [...ACTIONS_ALL, 'spaces:manage'];
const ACTIONS_WILDCARD: readonly KibanaAction[] = [
  ...ACTIONS_ALL,
  'actions:endpoint_security_sub_actions',
  'spaces:manage',
];

/** The actions one serialized privilege holds. */
function actionsOf(privilege: string): readonly KibanaAction[] {
  switch (privilege) {
    case '*':
      return ACTIONS_WILDCARD;
    case 'all':
      return ACTIONS_GLOBAL_ALL;
    case 'space_all':
      return ACTIONS_ALL;
    case 'read':
    case 'space_read':
      return ACTIONS_READ;
    case 'feature_actions.all':
      return ACTIONS_ALL;
    case 'feature_actions.minimal_all':
      return ['login', 'actions:read', 'actions:all'];
    case 'feature_actions.read':
    case 'feature_actions.minimal_read':
      return ACTIONS_READ;
    case 'feature_actions.endpoint_security_execute':
      return ['login', 'actions:endpoint_security_execute'];
    default:
      return privilege.startsWith('feature_') || privilege.startsWith('space_') ? ['login'] : [];
  }
}

/** Elasticsearch name patterns: exact, or a trailing `*` wildcard. */
function matches(pattern: string, value: string): boolean {
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

const CLUSTER_IMPLIES: Record<string, readonly string[]> = {
  all: ['all', 'manage_security', 'read_security', 'manage_api_key', 'manage_own_api_key'],
  manage_security: ['manage_security', 'read_security', 'manage_api_key', 'manage_own_api_key'],
  manage_api_key: ['manage_api_key', 'manage_own_api_key'],
  manage_own_api_key: ['manage_own_api_key'],
  read_security: ['read_security'],
};

export type ClusterPrivilege =
  | 'manage_security'
  | 'read_security'
  | 'manage_api_key'
  | 'manage_own_api_key';

function layerGrants(layer: readonly RoleDescriptor[], action: KibanaAction, resource: string) {
  return layer.some((role) =>
    role.applications.some(
      (app) =>
        matches(app.application, KIBANA_APPLICATION) &&
        app.resources.some((r) => matches(r, resource)) &&
        app.privileges.some((p) => actionsOf(p).includes(action)),
    ),
  );
}

function layerHasCluster(layer: readonly RoleDescriptor[], privilege: ClusterPrivilege) {
  return layer.some((role) => role.cluster.some((c) => CLUSTER_IMPLIES[c]?.includes(privilege)));
}

function layerIsSuperuser(layer: readonly RoleDescriptor[]) {
  return layer.some(
    (role) =>
      role.cluster.includes('all') &&
      role.applications.some(
        (app) =>
          app.application === '*' && app.privileges.includes('*') && app.resources.includes('*'),
      ),
  );
}

/** Spaces whose answers a caller's privileges keep, per action; past it they are worked out anew. */
const REMEMBERED_SPACES = 256;

/**
 * The privileges of one caller: every layer must grant what is asked. A caller's privileges do not
 * change (a change of roles or keys makes new ones), and the authenticator keeps them with the
 * caller's credentials, so each answer is worked out once per action and space and then looked up.
 */
export class PrivilegeSet {
  /** Answers by action, then by space (undefined: every space). */
  private readonly answers = new Map<KibanaAction, Map<string | undefined, boolean>>();

  private constructor(private readonly layers: readonly (readonly RoleDescriptor[])[]) {}

  /** A caller whose roles are these descriptors. */
  static ofRoles(descriptors: readonly RoleDescriptor[]): PrivilegeSet {
    return new PrivilegeSet([descriptors]);
  }

  /** An API key: its own descriptors (ignored when there are none), limited by its owner's. */
  static ofApiKey(
    own: readonly RoleDescriptor[],
    limitedBy: readonly RoleDescriptor[],
  ): PrivilegeSet {
    return new PrivilegeSet(own.length === 0 ? [limitedBy] : [own, limitedBy]);
  }

  /** A Kibana action in a space, or globally (every space) when spaceId is undefined. */
  kibana(action: KibanaAction, spaceId?: string): boolean {
    let bySpace = this.answers.get(action);
    if (bySpace === undefined) {
      bySpace = new Map();
      this.answers.set(action, bySpace);
    }
    let granted = bySpace.get(spaceId);
    if (granted === undefined) {
      const resource = spaceId === undefined ? GLOBAL_RESOURCE : `space:${spaceId}`;
      granted = this.layers.every((layer) => layerGrants(layer, action, resource));
      if (bySpace.size < REMEMBERED_SPACES) bySpace.set(spaceId, granted);
    }
    return granted;
  }

  cluster(privilege: ClusterPrivilege): boolean {
    return this.layers.every((layer) => layerHasCluster(layer, privilege));
  }

  /** Kibana's reserved `superuser` privilege: every application privilege and cluster `all`. */
  get superuser(): boolean {
    return this.layers.every(layerIsSuperuser);
  }
}

/**
 * Kibana's transform of a role's `kibana` entries into application privileges: an entry for all
 * spaces keeps its base privileges as they are, an entry for some spaces prefixes them `space_`;
 * feature privileges become `feature_<feature>.<privilege>`.
 */
export function kibanaToApplications(
  entries: readonly KibanaPrivilegeEntry[],
): ApplicationPrivilege[] {
  return entries.map((entry) => {
    const global = entry.spaces.includes(GLOBAL_RESOURCE);
    const features = Object.entries(entry.feature ?? {}).flatMap(([feature, privileges]) =>
      privileges.map((p) => `feature_${feature}.${p}`),
    );
    const base = (entry.base ?? []).map((b) => (global ? b : `space_${b}`));
    return {
      application: KIBANA_APPLICATION,
      privileges: [...base, ...features],
      resources: global ? [GLOBAL_RESOURCE] : entry.spaces.map((s) => `space:${s}`),
    };
  });
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** An Elasticsearch role descriptor (as API keys carry them) reduced to what authorization reads. */
export function toRoleDescriptor(descriptor: unknown): RoleDescriptor {
  const d = (typeof descriptor === 'object' && descriptor !== null ? descriptor : {}) as Record<
    string,
    unknown
  >;
  const applications = Array.isArray(d.applications) ? d.applications : [];
  return {
    cluster: strings(d.cluster),
    applications: applications.flatMap((a) => {
      if (typeof a !== 'object' || a === null) return [];
      const app = a as Record<string, unknown>;
      if (typeof app.application !== 'string') return [];
      return [
        {
          application: app.application,
          privileges: strings(app.privileges),
          resources: strings(app.resources),
        },
      ];
    }),
  };
}
