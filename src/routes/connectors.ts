import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type {
  Caller,
  Connector,
  ConnectorsClient,
  ConnectorTypeInfo,
  ListedConnector,
  RunCancellation,
} from '../connectors/client.js';
import { isStreamData } from '../connectors/result.js';
import type { ConnectorResult } from '../connectors/types.js';
import {
  ConnectorIdParams,
  ConnectorListResponse,
  ConnectorResponse,
  ConnectorTypesQuery,
  ConnectorTypesResponse,
  CreateConnectorBody,
  ExecuteBody,
  ExecuteResponse,
  UpdateConnectorBody,
} from '../schemas/connectors.js';
import type { AuditRequest } from '../security/audit.js';
import { auditRequestOf } from '../security/hooks.js';
import type { Principal } from '../security/principal.js';
import { errorResponses, type TypedApp } from './common.js';

/**
 * Kibana's public connectors API. Routes translate between the wire (snake_case) and the
 * connectors client (camelCase); every rule lives in the client.
 */

const TAGS = ['connectors'];

export function callerOf(request: FastifyRequest): Caller {
  if (request.principal === undefined) throw new Error('route requires an authenticated caller');
  return new RouteCaller(request.principal, request.spaceId, request);
}

/**
 * A route's caller. The request is described for audit records only when one is written, behind
 * a getter of the class (an object literal with a getter costs about a microsecond to make).
 */
class RouteCaller implements Caller {
  constructor(
    readonly principal: Principal,
    readonly spaceId: string,
    private readonly from: FastifyRequest,
  ) {}

  get request(): AuditRequest {
    return auditRequestOf(this.from);
  }
}

export function connectorToWire(c: Connector) {
  return {
    id: c.id,
    name: c.name,
    connector_type_id: c.typeId,
    ...(c.config !== undefined ? { config: c.config } : {}),
    is_preconfigured: c.isPreconfigured,
    is_system_action: c.isSystemAction,
    is_deprecated: c.isDeprecated,
    ...(c.isMissingSecrets !== undefined ? { is_missing_secrets: c.isMissingSecrets } : {}),
    is_connector_type_deprecated: c.isConnectorTypeDeprecated,
  };
}

function listedToWire(c: ListedConnector) {
  return { ...connectorToWire(c), referenced_by_count: c.referencedByCount };
}

function typeToWire(t: ConnectorTypeInfo) {
  return {
    id: t.id,
    name: t.name,
    enabled: t.enabled,
    enabled_in_config: t.enabledInConfig,
    enabled_in_license: t.enabledInLicense,
    minimum_license_required: t.minimumLicenseRequired,
    supported_feature_ids: [...t.supportedFeatureIds],
    is_system_action_type: t.isSystemActionType,
    is_deprecated: t.isDeprecated,
    ...(t.subFeature !== undefined ? { sub_feature: t.subFeature } : {}),
  };
}

/** Kibana's execute envelope: connector_id, service_message, ISO retry; errorSource stays camelCase. */
export function resultToWire(connectorId: string, result: ConnectorResult) {
  if (result.status === 'ok') {
    return {
      status: 'ok' as const,
      connector_id: result.connectorId ?? connectorId,
      ...(result.data !== undefined ? { data: result.data } : {}),
    };
  }
  return {
    status: 'error' as const,
    connector_id: result.connectorId ?? connectorId,
    ...(result.data !== undefined ? { data: result.data } : {}),
    message: result.message,
    ...(result.serviceMessage ? { service_message: result.serviceMessage } : {}),
    ...(result.retry !== undefined
      ? { retry: result.retry instanceof Date ? result.retry.toISOString() : result.retry }
      : {}),
    ...(result.errorSource !== undefined ? { errorSource: result.errorSource } : {}),
  };
}

/**
 * A run's cancellation: set when the client goes away before the answer is sent. Vendor calls
 * listen to it directly; the AbortSignal, for what needs one, is made on first use.
 */
class Run implements RunCancellation {
  aborted = false;
  private controller: AbortController | undefined;
  private listeners: Array<() => void> | undefined;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    // As with an AbortSignal, a listener added after the abort is never called.
    if (this.aborted) return;
    this.listeners ??= [];
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners?.splice(at, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) listener();
  }
}

/** The runs a connection is waiting on; its one `close` listener tells each of them. */
const RUNS = Symbol('runs in progress');
type WatchedSocket = Socket & { [RUNS]?: Set<Run> };

/** One `close` listener per connection, not one per request on a kept-alive connection. */
function runsOf(socket: WatchedSocket): Set<Run> {
  const known = socket[RUNS];
  if (known !== undefined) return known;
  const runs = new Set<Run>();
  socket[RUNS] = runs;
  socket.once('close', () => {
    for (const run of runs) run.abort();
  });
  return runs;
}

/** A cancellation set when the client goes away before the answer is sent. */
function disconnectSignal(request: FastifyRequest): { cancel: Run; done: () => void } {
  const runs = runsOf(request.raw.socket as WatchedSocket);
  const run = new Run();
  runs.add(run);
  return {
    cancel: run,
    done: () => {
      runs.delete(run);
    },
  };
}

export function connectorRoutes(app: TypedApp, client: ConnectorsClient): void {
  const createSchema = {
    summary: 'Create a connector',
    tags: TAGS,
    body: CreateConnectorBody,
    response: { 200: ConnectorResponse, ...errorResponses(400, 401, 403, 409) },
  };
  const create = async (caller: Caller, body: CreateConnectorBody, id?: string) => {
    const { name, connector_type_id, config, secrets } = body;
    const created = await client.create(caller, {
      ...(id !== undefined ? { id } : {}),
      name,
      typeId: connector_type_id,
      config,
      secrets,
    });
    return connectorToWire(created);
  };
  app.post('/api/actions/connector', { schema: createSchema }, async (request) =>
    create(callerOf(request), request.body),
  );
  app.post(
    '/api/actions/connector/:id',
    {
      schema: {
        ...createSchema,
        summary: 'Create a connector with a chosen id',
        params: ConnectorIdParams,
      },
    },
    async (request) => create(callerOf(request), request.body, request.params.id),
  );

  app.get(
    '/api/actions/connector/:id',
    {
      schema: {
        summary: 'Get connector information',
        tags: TAGS,
        params: ConnectorIdParams,
        response: { 200: ConnectorResponse, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => connectorToWire(await client.get(callerOf(request), request.params.id)),
  );

  app.get(
    '/api/actions/connectors',
    {
      schema: {
        summary: 'Get all connectors',
        tags: TAGS,
        response: { 200: ConnectorListResponse, ...errorResponses(401, 403) },
      },
    },
    async (request) => (await client.list(callerOf(request))).map(listedToWire),
  );

  app.put(
    '/api/actions/connector/:id',
    {
      schema: {
        summary: 'Update a connector',
        tags: TAGS,
        params: ConnectorIdParams,
        body: UpdateConnectorBody,
        response: { 200: ConnectorResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { name, config, secrets } = request.body;
      return connectorToWire(
        await client.update(callerOf(request), request.params.id, { name, config, secrets }),
      );
    },
  );

  app.delete(
    '/api/actions/connector/:id',
    {
      schema: {
        summary: 'Delete a connector',
        tags: TAGS,
        params: ConnectorIdParams,
        response: {
          204: { type: 'null', description: 'Deleted.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      await client.delete(callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/actions/connector/:id/_execute',
    {
      schema: {
        summary: 'Run a connector',
        description:
          'Runs the connector inside the request. Failures of the connector or the vendor answer 200 with status "error".',
        tags: TAGS,
        params: ConnectorIdParams,
        body: ExecuteBody,
        response: { 200: ExecuteResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { cancel, done } = disconnectSignal(request);
      let streaming = false;
      try {
        const { connectorId, result } = await client.execute(
          callerOf(request),
          request.params.id,
          request.body.params,
          cancel,
        );
        if (result.status === 'ok' && isStreamData(result.data)) {
          // The vendor's bytes go out as they arrive; the client going away still cancels the run.
          const stream = result.data;
          streaming = true;
          stream.once('close', done);
          reply.header('content-type', stream.contentType ?? 'application/octet-stream');
          // The 200 schema describes the JSON envelope; a stream bypasses the serializer.
          return reply.send(stream as never);
        }
        return resultToWire(connectorId, result);
      } finally {
        if (!streaming) done();
      }
    },
  );

  app.get(
    '/api/actions/connector_types',
    {
      schema: {
        summary: 'Get connector types',
        tags: TAGS,
        querystring: ConnectorTypesQuery,
        response: { 200: ConnectorTypesResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => client.listTypes(request.query.feature_id).map(typeToWire),
  );
}
