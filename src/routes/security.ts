import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { badRequest, conflict, notFound } from '../errors.js';
import { AnyRecord } from '../schemas/common.js';
import {
  ApiKeyObject,
  ChangePasswordBody,
  CreateApiKeyBody,
  CreateApiKeyResponse,
  InvalidateApiKeysBody,
  InvalidateApiKeysResponse,
  ListApiKeysQuery,
  QueryApiKeysBody,
  QueryApiKeysResponse,
  RoleGetParams,
  RoleGetQuery,
  RoleNameParams,
  RolePutBody,
  RolePutQuery,
  RoleResponse,
  UserBody,
  UserEcho,
  UsernameParams,
  UserResponse,
} from '../schemas/security.js';
import type { ApiKeyService, KibanaRoleDescriptor } from '../security/api-keys.js';
import type { Authenticator } from '../security/authenticator.js';
import {
  ensureNoReservedMetadata,
  ensureSecurityAction,
  illegalArgument,
} from '../security/es-errors.js';
import type { Principal } from '../security/principal.js';
import { isReservedRole, type Roles } from '../security/roles.js';
import type { Users } from '../security/users.js';
import type { KibanaPrivilegeEntry } from '../store/types.js';
import { errorResponses, type TypedApp } from './common.js';

/**
 * Kibana's security routes: roles (the public, versioned roles API), users and API keys (the
 * internal routes Kibana's management pages use), and "who am I".
 */

const TAGS = ['security'];
/** The roles API is a versioned public route. */
const ROLES_API_VERSION = '2023-10-31';

function principalOf(principal: Principal | undefined): Principal {
  if (principal === undefined) throw new Error('route requires an authenticated caller');
  return principal;
}

function versioned(reply: FastifyReply): void {
  reply.header('elastic-api-version', ROLES_API_VERSION);
}

const MeResponse = Type.Object({
  username: Type.String(),
  roles: Type.Array(Type.String()),
  full_name: Type.Null(),
  email: Type.Null(),
  metadata: AnyRecord(),
  enabled: Type.Boolean(),
  authentication_realm: Type.Object({ name: Type.String(), type: Type.String() }),
  lookup_realm: Type.Object({ name: Type.String(), type: Type.String() }),
  authentication_provider: Type.Object({ type: Type.String(), name: Type.String() }),
  authentication_type: Type.String(),
  elastic_cloud_user: Type.Boolean(),
  api_key: Type.Optional(Type.Object({ id: Type.String(), name: Type.String() })),
});

export interface SecurityServices {
  apiKeys: ApiKeyService;
  users: Users;
  roles: Roles;
  authenticator: Authenticator;
}

export function securityRoutes(app: TypedApp, services: SecurityServices): void {
  rolesRoutes(app, services);
  usersRoutes(app, services);
  apiKeyRoutes(app, services);

  app.get(
    '/internal/security/me',
    {
      schema: {
        summary: 'Get the current user',
        tags: TAGS,
        response: { 200: MeResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const realm =
        principal.authenticationType === 'api_key'
          ? { name: '_es_api_key', type: '_es_api_key' }
          : principal.realm === 'native'
            ? { name: 'native1', type: 'native' }
            : { name: 'reserved', type: 'reserved' };
      return {
        username: principal.username,
        roles: [...principal.roles],
        full_name: null,
        email: null,
        metadata: {},
        enabled: true,
        authentication_realm: realm,
        lookup_realm: realm,
        authentication_provider: { type: 'http', name: '__http__' },
        authentication_type: principal.authenticationType === 'api_key' ? 'api_key' : 'realm',
        elastic_cloud_user: false,
        ...(principal.apiKey ? { api_key: principal.apiKey } : {}),
      };
    },
  );
}

function rolesRoutes(app: TypedApp, { roles, authenticator }: SecurityServices): void {
  const ROLE_TAGS = ['roles'];

  app.get(
    '/api/security/role',
    {
      schema: {
        summary: 'Get all roles',
        tags: ROLE_TAGS,
        querystring: RoleGetQuery,
        response: { 200: Type.Array(RoleResponse), ...errorResponses(401, 403) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      ensureSecurityAction(principalOf(request.principal), 'getRoles');
      return roles.list();
    },
  );

  app.get(
    '/api/security/role/:name',
    {
      schema: {
        summary: 'Get a role',
        tags: ROLE_TAGS,
        params: RoleGetParams,
        querystring: RoleGetQuery,
        response: { 200: RoleResponse, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      ensureSecurityAction(principalOf(request.principal), 'getRoles');
      const role = await roles.get(request.params.name);
      if (role === undefined) throw notFound();
      return role;
    },
  );

  app.put(
    '/api/security/role/:name',
    {
      schema: {
        summary: 'Create or update a role',
        description:
          'Create a new Kibana role or update the attributes of an existing role. Kibana privileges are base privileges (`all`, `read`) or feature privileges such as `{"actions": ["read"]}`, for every space (`*`) or for given spaces.',
        tags: ROLE_TAGS,
        params: RoleNameParams,
        querystring: RolePutQuery,
        body: RolePutBody,
        response: {
          204: { type: 'null', description: 'Indicates a successful call.' },
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      versioned(reply);
      const principal = principalOf(request.principal);
      const { name } = request.params;
      ensureSecurityAction(principal, 'getRoles');
      if (request.query.createOnly && (await roles.exists(name))) {
        throw conflict(`Role already exists and cannot be created: ${name}`);
      }
      ensureSecurityAction(principal, 'putRole');
      if (isReservedRole(name)) {
        throw illegalArgument(`role [${name}] is reserved and cannot be modified.`);
      }
      const body = request.body;
      ensureNoReservedMetadata(body.metadata);
      await roles.put({
        name,
        ...(body.description ? { description: body.description } : {}),
        metadata: body.metadata ?? {},
        elasticsearch: body.elasticsearch,
        kibana: (body.kibana ?? []) as KibanaPrivilegeEntry[],
      });
      authenticator.forgetAll();
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/security/role/:name',
    {
      schema: {
        summary: 'Delete a role',
        tags: ROLE_TAGS,
        params: RoleGetParams,
        response: {
          204: { type: 'null', description: 'Indicates a successful call.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      versioned(reply);
      const { name } = request.params;
      ensureSecurityAction(principalOf(request.principal), 'deleteRole');
      if (isReservedRole(name)) {
        throw illegalArgument(`role [${name}] is reserved and cannot be deleted`);
      }
      const deleted = await roles.delete(name);
      authenticator.forgetAll();
      if (!deleted) throw notFound();
      return reply.code(204).send();
    },
  );
}

function usersRoutes(app: TypedApp, { users }: SecurityServices): void {
  app.get(
    '/internal/security/users',
    {
      schema: {
        summary: 'Get all users',
        tags: TAGS,
        response: { 200: Type.Array(UserResponse), ...errorResponses(401, 403) },
      },
    },
    async (request) => users.list(principalOf(request.principal)),
  );

  app.get(
    '/internal/security/users/:username',
    {
      schema: {
        summary: 'Get a user',
        tags: TAGS,
        params: UsernameParams,
        response: { 200: UserResponse, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => users.get(principalOf(request.principal), request.params.username),
  );

  app.post(
    '/internal/security/users/:username',
    {
      schema: {
        summary: 'Create or update a user',
        description:
          'The password is required for a new user and stored only as a slow hash; it is never returned.',
        tags: TAGS,
        params: UsernameParams,
        body: UserBody,
        response: { 200: UserEcho, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { password, ...echo } = request.body;
      await users.put(principalOf(request.principal), request.params.username, {
        ...(password !== undefined ? { password } : {}),
        roles: echo.roles,
        ...(echo.full_name !== undefined ? { full_name: echo.full_name } : {}),
        ...(echo.email !== undefined ? { email: echo.email } : {}),
        ...(echo.metadata !== undefined ? { metadata: echo.metadata } : {}),
        enabled: echo.enabled,
      });
      return echo;
    },
  );

  app.delete(
    '/internal/security/users/:username',
    {
      schema: {
        summary: 'Delete a user',
        tags: TAGS,
        params: UsernameParams,
        response: {
          204: { type: 'null', description: 'Deleted.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      await users.delete(principalOf(request.principal), request.params.username);
      return reply.code(204).send();
    },
  );

  app.post(
    '/internal/security/users/:username/password',
    {
      schema: {
        summary: "Change a user's password",
        description:
          "Users changing their own password give the current one as `password`; changing another user's needs the manage_security cluster privilege.",
        tags: TAGS,
        params: UsernameParams,
        body: ChangePasswordBody,
        response: {
          204: { type: 'null', description: 'Changed.' },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const { password, newPassword } = request.body;
      await users.changePassword(principalOf(request.principal), request.params.username, {
        ...(password !== undefined ? { password } : {}),
        newPassword,
      });
      return reply.code(204).send();
    },
  );
}

function apiKeyRoutes(app: TypedApp, { apiKeys }: SecurityServices): void {
  app.post(
    '/internal/security/api_key',
    {
      schema: {
        summary: 'Create an API key',
        description:
          "Use `encoded` as `Authorization: ApiKey <encoded>`. The secret is shown once. `role_descriptors` (Elasticsearch form) or `kibana_role_descriptors` (Kibana form) limit what the key may do, within its owner's privileges.",
        tags: TAGS,
        body: CreateApiKeyBody,
        response: { 200: CreateApiKeyResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const body = request.body;
      if (body.type === 'cross_cluster') {
        throw badRequest('Cross-cluster API keys are not supported by this server');
      }
      return apiKeys.create(principal, {
        name: body.name,
        ...('role_descriptors' in body ? { roleDescriptors: body.role_descriptors } : {}),
        ...('kibana_role_descriptors' in body
          ? {
              kibanaRoleDescriptors: body.kibana_role_descriptors as Record<
                string,
                KibanaRoleDescriptor
              >,
            }
          : {}),
        ...(body.expiration !== undefined ? { expiration: body.expiration } : {}),
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
      });
    },
  );

  app.get(
    '/internal/security/api_key',
    {
      schema: {
        summary: 'Get API keys (Kibana 8.x route)',
        description: "The valid keys: all of them with `isAdmin=true`, else the caller's own.",
        tags: TAGS,
        querystring: ListApiKeysQuery,
        response: {
          200: Type.Object({ apiKeys: Type.Array(ApiKeyObject) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({
      apiKeys: await apiKeys.list(principalOf(request.principal), request.query.isAdmin),
    }),
  );

  app.get(
    '/internal/security/api_key/_enabled',
    {
      schema: {
        summary: 'Whether API keys are enabled',
        tags: TAGS,
        response: { 200: Type.Object({ apiKeysEnabled: Type.Boolean() }), ...errorResponses(401) },
      },
    },
    async () => ({ apiKeysEnabled: true }),
  );

  app.get(
    '/internal/security/api_key/_has_active',
    {
      schema: {
        summary: 'Whether the caller has a valid API key',
        tags: TAGS,
        response: { 200: Type.Object({ hasApiKeys: Type.Boolean() }), ...errorResponses(401) },
      },
    },
    async (request) => ({ hasApiKeys: await apiKeys.hasActive(principalOf(request.principal)) }),
  );

  app.post(
    '/internal/security/api_key/_query',
    {
      schema: {
        summary: 'Query API keys',
        description:
          "Kibana's API keys page query: a query (match_all, bool, term, terms, prefix, match, wildcard, exists, range), filters, sort and search_after paging.",
        tags: TAGS,
        body: QueryApiKeysBody,
        response: { 200: QueryApiKeysResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { query, size, sort, filters, searchAfter } = request.body;
      return apiKeys.query(principalOf(request.principal), {
        ...(query !== undefined ? { query } : {}),
        ...(size !== undefined ? { size } : {}),
        ...(sort !== undefined ? { sort } : {}),
        ...(filters !== undefined ? { filters } : {}),
        ...(searchAfter !== undefined ? { searchAfter } : {}),
      });
    },
  );

  app.post(
    '/internal/security/api_key/invalidate',
    {
      schema: {
        summary: 'Invalidate API keys',
        description:
          "Invalidated keys are refused at once. Without `isAdmin`, only the caller's own keys are invalidated.",
        tags: TAGS,
        body: InvalidateApiKeysBody,
        response: { 200: InvalidateApiKeysResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      apiKeys.invalidate(
        principalOf(request.principal),
        request.body.apiKeys,
        request.body.isAdmin,
      ),
  );
}
