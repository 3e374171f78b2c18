import type { KibanaPrivilegeEntry, RoleRepository, StoredRole } from '../store/types.js';
import {
  type ApplicationPrivilege,
  KIBANA_APPLICATION,
  kibanaToApplications,
  type RoleDescriptor,
} from './privileges.js';

/**
 * Roles: the reserved ones Elasticsearch ships (superuser, kibana_admin, viewer), which cannot be
 * changed or deleted, and the ones made with Kibana's roles API, kept in the store.
 */

export const SUPERUSER = 'superuser';

interface ReservedRole {
  elasticsearch: {
    cluster: string[];
    indices: Record<string, unknown>[];
    run_as: string[];
  };
  applications: ApplicationPrivilege[];
  /** How Kibana's roles API shows the applications above. */
  kibana: Required<KibanaPrivilegeEntry>[];
}

const READ_INDICES = ['read', 'view_index_metadata'];

/** Elasticsearch's reserved roles that matter to Kibana, as its roles API shows them. */
export const RESERVED_ROLES: Readonly<Record<string, ReservedRole>> = {
  superuser: {
    elasticsearch: {
      cluster: ['all'],
      indices: [
        { names: ['*'], privileges: ['all'], allow_restricted_indices: false },
        {
          names: ['*'],
          privileges: ['monitor', 'read', 'view_index_metadata', 'read_cross_cluster'],
          allow_restricted_indices: true,
        },
      ],
      run_as: ['*'],
    },
    applications: [{ application: '*', privileges: ['*'], resources: ['*'] }],
    kibana: [{ base: ['*'], feature: {}, spaces: ['*'] }],
  },
  kibana_admin: {
    elasticsearch: { cluster: [], indices: [], run_as: [] },
    applications: [{ application: KIBANA_APPLICATION, privileges: ['all'], resources: ['*'] }],
    kibana: [{ base: ['all'], feature: {}, spaces: ['*'] }],
  },
  viewer: {
    elasticsearch: {
      cluster: [],
      indices: [
        {
          names: ['/~(([.]|ilm-history-).*)/'],
          privileges: READ_INDICES,
          allow_restricted_indices: false,
        },
        {
          names: ['.siem-signals*', '.lists-*', '.items-*'],
          privileges: READ_INDICES,
          allow_restricted_indices: false,
        },
        {
          names: ['.alerts*', '.preview.alerts*'],
          privileges: READ_INDICES,
          allow_restricted_indices: false,
        },
      ],
      run_as: [],
    },
    applications: [{ application: KIBANA_APPLICATION, privileges: ['read'], resources: ['*'] }],
    kibana: [{ base: ['read'], feature: {}, spaces: ['*'] }],
  },
};

export function isReservedRole(name: string): boolean {
  return Object.hasOwn(RESERVED_ROLES, name);
}

/** A role in the shape GET /api/security/role answers. */
export interface RoleView {
  name: string;
  description?: string;
  metadata: Record<string, unknown>;
  transient_metadata: { enabled: boolean };
  elasticsearch: Record<string, unknown>;
  kibana: Required<KibanaPrivilegeEntry>[];
  _transform_error: string[];
  _unrecognized_applications: string[];
}

function esPart(elasticsearch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    cluster: elasticsearch.cluster ?? [],
    indices: elasticsearch.indices ?? [],
    run_as: elasticsearch.run_as ?? [],
  };
  if (elasticsearch.remote_cluster !== undefined) out.remote_cluster = elasticsearch.remote_cluster;
  if (elasticsearch.remote_indices !== undefined) out.remote_indices = elasticsearch.remote_indices;
  return out;
}

function reservedView(name: string, role: ReservedRole): RoleView {
  return {
    name,
    metadata: { _reserved: true },
    transient_metadata: { enabled: true },
    elasticsearch: esPart(role.elasticsearch),
    kibana: role.kibana.map((k) => ({ ...k, base: [...k.base], spaces: [...k.spaces] })),
    _transform_error: [],
    _unrecognized_applications: [],
  };
}

function storedView(role: StoredRole): RoleView {
  return {
    name: role.name,
    ...(role.description ? { description: role.description } : {}),
    metadata: role.metadata,
    transient_metadata: { enabled: true },
    elasticsearch: esPart(role.elasticsearch),
    kibana: role.kibana.map((k) => ({
      base: k.base ?? [],
      feature: k.feature ?? {},
      spaces: k.spaces,
    })),
    _transform_error: [],
    _unrecognized_applications: [],
  };
}

/** Role names, sorted as Kibana sorts them (plain code-unit order). */
const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export class Roles {
  constructor(private readonly repo: RoleRepository) {}

  async get(name: string): Promise<RoleView | undefined> {
    const reserved = RESERVED_ROLES[name];
    if (reserved !== undefined && isReservedRole(name)) return reservedView(name, reserved);
    const stored = await this.repo.get(name);
    return stored && storedView(stored);
  }

  async list(): Promise<RoleView[]> {
    const reserved = Object.entries(RESERVED_ROLES).map(([name, role]) => reservedView(name, role));
    const stored = (await this.repo.list()).map(storedView);
    return [...reserved, ...stored].sort(byName);
  }

  async exists(name: string): Promise<boolean> {
    return isReservedRole(name) || (await this.repo.get(name)) !== undefined;
  }

  put(role: StoredRole): Promise<void> {
    return this.repo.put(role);
  }

  delete(name: string): Promise<boolean> {
    return this.repo.delete(name);
  }

  /**
   * The Elasticsearch role descriptors of these roles, by name. Unknown names are skipped, as
   * Elasticsearch skips them when it computes a user's effective roles.
   */
  async descriptors(names: readonly string[]): Promise<Record<string, EsRoleDescriptor>> {
    const out: Record<string, EsRoleDescriptor> = {};
    for (const name of new Set(names)) {
      const reserved = RESERVED_ROLES[name];
      if (reserved !== undefined && isReservedRole(name)) {
        out[name] = {
          ...reserved.elasticsearch,
          applications: reserved.applications,
          metadata: { _reserved: true },
        };
        continue;
      }
      const stored = await this.repo.get(name);
      if (stored === undefined) continue;
      out[name] = {
        cluster: (stored.elasticsearch.cluster as string[] | undefined) ?? [],
        indices: (stored.elasticsearch.indices as Record<string, unknown>[] | undefined) ?? [],
        run_as: (stored.elasticsearch.run_as as string[] | undefined) ?? [],
        applications: kibanaToApplications(stored.kibana),
        metadata: stored.metadata,
      };
    }
    return out;
  }
}

/** An Elasticsearch role descriptor, as an API key's `limited_by` records it. */
export interface EsRoleDescriptor extends RoleDescriptor {
  indices: Record<string, unknown>[];
  run_as: string[];
  metadata: Record<string, unknown>;
}
