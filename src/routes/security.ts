import { Type } from '@sinclair/typebox';
import { AnyRecord, StrictObject } from '../schemas/common.js';
import type { ApiKeyService } from '../security/api-keys.js';
import { errorResponses, type TypedApp } from './common.js';
import { callerOf } from './connectors.js';

/** Kibana's security routes that API clients use: minting API keys and "who am I". */

const TAGS = ['security'];

const CreateApiKeyBody = StrictObject({
  type: Type.Optional(Type.Literal('rest')),
  name: Type.String({ minLength: 1 }),
  expiration: Type.Optional(Type.String({ description: 'A time value such as "1d" or "7d".' })),
  role_descriptors: AnyRecord({ default: {} }),
  metadata: Type.Optional(AnyRecord()),
});

const CreateApiKeyResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  expiration: Type.Optional(Type.Number()),
  api_key: Type.String(),
  encoded: Type.String(),
});

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

export function securityRoutes(app: TypedApp, apiKeys: ApiKeyService): void {
  app.post(
    '/internal/security/api_key',
    {
      schema: {
        summary: 'Create an API key',
        description:
          'Use `encoded` as `Authorization: ApiKey <encoded>`. The secret is shown once.',
        tags: TAGS,
        body: CreateApiKeyBody,
        response: { 200: CreateApiKeyResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { principal } = callerOf(request);
      const body = request.body;
      return apiKeys.create(principal, {
        name: body.name,
        roleDescriptors: body.role_descriptors,
        ...(body.expiration !== undefined ? { expiration: body.expiration } : {}),
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
      });
    },
  );

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
      const { principal } = callerOf(request);
      const realm =
        principal.authenticationType === 'api_key'
          ? { name: '_es_api_key', type: '_es_api_key' }
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
