import type { FastifyReply } from 'fastify';
import {
  SpaceBody,
  SpaceIdParams,
  SpaceListQuery,
  SpaceListResponse,
  SpaceResponse,
} from '../schemas/spaces.js';
import type { Principal } from '../security/principal.js';
import type { SpaceInput, SpacesService } from '../spaces/service.js';
import { errorResponses, type TypedApp } from './common.js';

/** Kibana's public Spaces API (a versioned route: answers carry elastic-api-version). */

const TAGS = ['spaces'];
const API_VERSION = '2023-10-31';
const ALL_PURPOSES = {
  any: true,
  copySavedObjectsIntoSpace: true,
  findSavedObjects: true,
  shareSavedObjectsIntoSpace: true,
};

function versioned(reply: FastifyReply): void {
  reply.header('elastic-api-version', API_VERSION);
}

function principalOf(principal: Principal | undefined): Principal {
  if (principal === undefined) throw new Error('route requires an authenticated caller');
  return principal;
}

function input(body: SpaceBody): SpaceInput {
  const { _reserved: _ignored, ...rest } = body;
  return rest;
}

export function spacesRoutes(app: TypedApp, spaces: SpacesService): void {
  app.get(
    '/api/spaces/space',
    {
      schema: {
        summary: 'Get all spaces',
        tags: TAGS,
        querystring: SpaceListQuery,
        response: { 200: SpaceListResponse, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      const list = await spaces.list(principalOf(request.principal));
      if (request.query.include_authorized_purposes === true) {
        return list.map((space) => ({ ...space, authorizedPurposes: ALL_PURPOSES }));
      }
      return list;
    },
  );

  app.get(
    '/api/spaces/space/:id',
    {
      schema: {
        summary: 'Get a space',
        tags: TAGS,
        params: SpaceIdParams,
        response: { 200: SpaceResponse, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      return spaces.get(principalOf(request.principal), request.params.id);
    },
  );

  app.post(
    '/api/spaces/space',
    {
      schema: {
        summary: 'Create a space',
        tags: TAGS,
        body: SpaceBody,
        response: { 200: SpaceResponse, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      return spaces.create(principalOf(request.principal), input(request.body));
    },
  );

  app.put(
    '/api/spaces/space/:id',
    {
      schema: {
        summary: 'Update a space',
        tags: TAGS,
        params: SpaceIdParams,
        body: SpaceBody,
        response: { 200: SpaceResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      versioned(reply);
      return spaces.update(principalOf(request.principal), request.params.id, input(request.body));
    },
  );

  app.delete(
    '/api/spaces/space/:id',
    {
      schema: {
        summary: 'Delete a space',
        description: 'Deletes the space and every connector in it.',
        tags: TAGS,
        params: SpaceIdParams,
        response: {
          204: { type: 'null', description: 'Deleted.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      versioned(reply);
      await spaces.delete(principalOf(request.principal), request.params.id);
      return reply.code(204).send();
    },
  );
}
