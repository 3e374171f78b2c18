import { type Static, Type } from '@sinclair/typebox';
import { AnyRecord, StrictObject, StringEnum } from './common.js';
import { type CheckFailure, withCheck } from './validate.js';

/**
 * Wire schemas of Kibana's security routes (roles, users, API keys) and of the encrypted saved
 * objects routes, with the rules and texts of Kibana's route schemas.
 */

/** Kibana's base privilege names, for every space (`*`) and for given spaces. */
export const GLOBAL_BASE_PRIVILEGES = ['all', 'read'] as const;
export const SPACE_BASE_PRIVILEGES = ['all', 'read'] as const;

const FEATURE_NAME = /^[a-zA-Z0-9_-]+$/;
const FEATURE_NAME_REASON = "only a-z, A-Z, 0-9, '_', and '-' are allowed";
const SPACE_ID = /^[a-z0-9_-]+$/;

const Strings = (options: { minItems?: number; maxItems?: number } = {}) =>
  Type.Array(Type.String(), options);

const FieldSecurity = StrictObject({
  grant: Type.Optional(Strings()),
  except: Type.Optional(Strings()),
});

const IndexPrivileges = StrictObject({
  names: Strings({ minItems: 1 }),
  field_security: Type.Optional(FieldSecurity),
  privileges: Strings({ minItems: 1 }),
  query: Type.Optional(Type.String()),
  allow_restricted_indices: Type.Optional(Type.Boolean()),
});

const RemoteIndexPrivileges = StrictObject({
  clusters: Strings({ minItems: 1 }),
  names: Strings({ minItems: 1 }),
  field_security: Type.Optional(FieldSecurity),
  privileges: Strings({ minItems: 1 }),
  query: Type.Optional(Type.String()),
  allow_restricted_indices: Type.Optional(Type.Boolean()),
});

const esRoleProperties = {
  cluster: Type.Optional(Strings()),
  remote_cluster: Type.Optional(
    Type.Array(
      StrictObject({ privileges: Strings({ minItems: 1 }), clusters: Strings({ minItems: 1 }) }),
    ),
  ),
  indices: Type.Optional(Type.Array(IndexPrivileges)),
  remote_indices: Type.Optional(Type.Array(RemoteIndexPrivileges)),
  run_as: Type.Optional(Strings()),
};

/** The `elasticsearch` part of a role. */
export const ElasticsearchRole = StrictObject(esRoleProperties, { default: {} });

const SpaceId = withCheck(Type.String(), (v) =>
  SPACE_ID.test(v as string) ? undefined : "must be lower case, a-z, 0-9, '_', and '-' are allowed",
);

interface EntryValue {
  spaces: string[];
  base?: string[];
  feature?: Record<string, string[]>;
}

function checkEntry(value: unknown): CheckFailure | undefined {
  const entry = value as EntryValue;
  const global = entry.spaces.length === 1 && entry.spaces[0] === '*';
  const known: readonly string[] = global ? GLOBAL_BASE_PRIVILEGES : SPACE_BASE_PRIVILEGES;
  for (const [i, base] of (entry.base ?? []).entries()) {
    if (!known.includes(base)) {
      return {
        path: ['base', i],
        message: `unknown ${global ? 'global' : 'space'} privilege "${base}", must be one of [${known.join(',')}]`,
      };
    }
  }
  for (const [feature, privileges] of Object.entries(entry.feature ?? {})) {
    if (!FEATURE_NAME.test(feature)) {
      return { path: ['feature', `key("${feature}")`], message: FEATURE_NAME_REASON };
    }
    for (const [i, privilege] of privileges.entries()) {
      if (!FEATURE_NAME.test(privilege)) {
        return { path: ['feature', feature, i], message: FEATURE_NAME_REASON };
      }
    }
  }
  const hasBase = (entry.base ?? []).length > 0;
  const hasFeature = Object.values(entry.feature ?? {}).flat().length > 0;
  if (!hasBase && !hasFeature) {
    return {
      path: [],
      message: 'either [base] or [feature] is expected, but none of them specified',
    };
  }
  if (hasBase && Object.keys(entry.feature ?? {}).length > 0) {
    return {
      path: [],
      message: "definition of [feature] isn't allowed when non-empty [base] is defined.",
    };
  }
  return undefined;
}

function checkNoSharedSpaces(value: unknown): string | undefined {
  const entries = value as EntryValue[];
  for (const [i, a] of entries.entries()) {
    for (const b of entries.slice(i + 1)) {
      const shared = [...new Set(a.spaces)].filter((s) => b.spaces.includes(s));
      if (shared.length > 0) {
        return `more than one privilege is applied to the following spaces: [${shared.join(',')}]`;
      }
    }
  }
  return undefined;
}

/** The `kibana` part of a role: base or feature privileges per set of spaces. */
export const KibanaRole = withCheck(
  Type.Array(
    withCheck(
      StrictObject({
        spaces: Type.Union(
          [Type.Array(Type.Literal('*'), { minItems: 1, maxItems: 1 }), Type.Array(SpaceId)],
          { default: ['*'] },
        ),
        base: Type.Optional(Strings()),
        feature: Type.Optional(Type.Record(Type.String(), Strings())),
      }),
      checkEntry,
    ),
  ),
  checkNoSharedSpaces,
);

export const RoleNameParams = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const RoleGetParams = StrictObject({ name: Type.String({ minLength: 1 }) });

export const RolePutQuery = StrictObject({ createOnly: Type.Boolean({ default: false }) });

export const RoleGetQuery = StrictObject({
  replaceDeprecatedPrivileges: Type.Optional(Type.Boolean()),
});

export const RolePutBody = StrictObject({
  description: Type.Optional(Type.String({ maxLength: 2048 })),
  metadata: Type.Optional(AnyRecord()),
  elasticsearch: ElasticsearchRole,
  kibana: Type.Optional(KibanaRole),
});
export type RolePutBody = Static<typeof RolePutBody>;

export const RoleResponse = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    metadata: AnyRecord(),
    transient_metadata: Type.Object({ enabled: Type.Boolean() }),
    elasticsearch: AnyRecord(),
    kibana: Type.Array(
      Type.Object({
        base: Type.Array(Type.String()),
        feature: Type.Record(Type.String(), Type.Array(Type.String())),
        spaces: Type.Array(Type.String()),
      }),
    ),
    _transform_error: Type.Array(Type.String()),
    _unrecognized_applications: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);

export const UsernameParams = StrictObject({
  username: Type.String({ minLength: 1, maxLength: 1024 }),
});

const NullOrString = () => Type.Optional(Type.Union([Type.Null(), Type.String()]));

export const UserBody = StrictObject({
  username: Type.String({ minLength: 1, maxLength: 1024 }),
  password: Type.Optional(Type.String({ minLength: 1 })),
  roles: Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 }),
  full_name: NullOrString(),
  email: NullOrString(),
  metadata: Type.Optional(AnyRecord()),
  enabled: Type.Boolean({ default: true }),
});
export type UserBody = Static<typeof UserBody>;

export const UserResponse = Type.Object({
  username: Type.String(),
  roles: Type.Array(Type.String()),
  full_name: Type.Union([Type.Null(), Type.String()]),
  email: Type.Union([Type.Null(), Type.String()]),
  metadata: AnyRecord(),
  enabled: Type.Boolean(),
});

/** What POST /internal/security/users/{username} echoes: the body, less the password. */
export const UserEcho = Type.Object({
  username: Type.String(),
  roles: Type.Array(Type.String()),
  full_name: Type.Optional(Type.Union([Type.Null(), Type.String()])),
  email: Type.Optional(Type.Union([Type.Null(), Type.String()])),
  metadata: Type.Optional(AnyRecord()),
  enabled: Type.Boolean(),
});

export const ChangePasswordBody = StrictObject({
  password: Type.Optional(Type.String({ minLength: 1 })),
  newPassword: Type.String({ minLength: 1 }),
});

const OpenObject = () => Type.Object({}, { additionalProperties: true });

const RestApiKey = StrictObject({
  type: Type.Optional(Type.Literal('rest')),
  name: Type.String(),
  expiration: Type.Optional(Type.String()),
  role_descriptors: Type.Record(Type.String(), OpenObject(), { default: {} }),
  metadata: Type.Optional(OpenObject()),
});

const KibanaApiKey = StrictObject({
  type: Type.Optional(Type.Literal('rest')),
  name: Type.String(),
  expiration: Type.Optional(Type.String()),
  metadata: Type.Optional(OpenObject()),
  kibana_role_descriptors: Type.Record(
    Type.String(),
    StrictObject({
      elasticsearch: Type.Object(esRoleProperties, { default: {}, additionalProperties: true }),
      kibana: KibanaRole,
    }),
  ),
});

const CrossClusterApiKey = StrictObject({
  type: Type.Literal('cross_cluster'),
  name: Type.String(),
  expiration: Type.Optional(Type.String()),
  metadata: Type.Optional(OpenObject()),
  access: Type.Object(
    {
      search: Type.Optional(Type.Array(OpenObject())),
      replication: Type.Optional(Type.Array(OpenObject())),
    },
    { additionalProperties: true },
  ),
});

/** Kibana's create body: one of a REST key, a REST key in Kibana's privilege form, a cross-cluster key. */
export const CreateApiKeyBody = Type.Union([RestApiKey, KibanaApiKey, CrossClusterApiKey]);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const CreateApiKeyResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  expiration: Type.Optional(Type.Number()),
  api_key: Type.String(),
  encoded: Type.String(),
});

export const ApiKeyObject = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    creation: Type.Number(),
    expiration: Type.Optional(Type.Number()),
    invalidated: Type.Boolean(),
    invalidation: Type.Optional(Type.Number()),
    username: Type.String(),
    realm: Type.String(),
    metadata: AnyRecord(),
    role_descriptors: AnyRecord(),
    _sort: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Null()]))),
  },
  { additionalProperties: true },
);

export const QueryApiKeysBody = StrictObject({
  query: Type.Optional(OpenObject()),
  size: Type.Optional(Type.Number()),
  sort: Type.Optional(
    StrictObject({ field: Type.String(), direction: StringEnum(['asc', 'desc'] as const) }),
  ),
  filters: Type.Optional(
    StrictObject({
      usernames: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
      type: Type.Optional(StringEnum(['rest', 'cross_cluster', 'managed'] as const)),
      expired: Type.Optional(Type.Boolean()),
    }),
  ),
  searchAfter: Type.Optional(
    Type.Array(Type.Union([Type.String(), Type.Number(), Type.Null()]), { maxItems: 10 }),
  ),
});
export type QueryApiKeysBody = Static<typeof QueryApiKeysBody>;

export const QueryApiKeysResponse = Type.Object(
  {
    aggregationTotal: Type.Number(),
    aggregations: AnyRecord(),
    canManageCrossClusterApiKeys: Type.Boolean(),
    canManageApiKeys: Type.Boolean(),
    canManageOwnApiKeys: Type.Boolean(),
    apiKeys: Type.Optional(Type.Array(ApiKeyObject)),
    total: Type.Optional(Type.Number()),
    count: Type.Optional(Type.Number()),
    searchAfter: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Null()]))),
    queryError: Type.Optional(Type.Object({ name: Type.String(), message: Type.String() })),
  },
  { additionalProperties: true },
);

const KeyRef = StrictObject({ id: Type.String(), name: Type.String() });

export const InvalidateApiKeysBody = StrictObject({
  apiKeys: Type.Array(KeyRef, { maxItems: 1000 }),
  isAdmin: Type.Boolean(),
});

export const InvalidateApiKeysResponse = Type.Object({
  itemsInvalidated: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  errors: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      error: AnyRecord(),
    }),
  ),
});

export const ListApiKeysQuery = StrictObject({ isAdmin: Type.Boolean() });

/** Kibana's largest rotation batch: the .kibana index's max_result_window. */
export const MAX_ROTATION_BATCH = 10_000;

export const RotateKeyQuery = StrictObject({
  batch_size: Type.Number({ minimum: 1, maximum: MAX_ROTATION_BATCH, default: MAX_ROTATION_BATCH }),
  type: Type.Optional(Type.String()),
});

export const RotateKeyResponse = Type.Object({
  total: Type.Integer(),
  successful: Type.Integer(),
  failed: Type.Integer(),
});

export const UndecryptableResponse = Type.Object({
  total: Type.Integer(),
  connectors: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      connector_type_id: Type.String(),
      space_id: Type.String(),
      is_missing_secrets: Type.Boolean(),
      reason: StringEnum(['unknown_key', 'unreadable'] as const),
    }),
  ),
});
