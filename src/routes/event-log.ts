import { Type } from '@sinclair/typebox';
import type { ConnectorsClient } from '../connectors/client.js';
import type { EventLogWriter } from '../event-log/writer.js';
import { AnyRecord, StrictObject, StringEnum } from '../schemas/common.js';
import { errorResponses, type TypedApp } from './common.js';
import { callerOf } from './connectors.js';

/** Kibana's event-log read API for one saved object: a connector's recent executions. */
export function eventLogRoutes(
  app: TypedApp,
  client: ConnectorsClient,
  events: EventLogWriter,
): void {
  app.get(
    '/internal/event_log/:type/:id/_find',
    {
      schema: {
        summary: "Get a connector's event-log records",
        tags: ['event log'],
        params: StrictObject({ type: Type.String(), id: Type.String() }),
        querystring: StrictObject({
          page: Type.Integer({ minimum: 1, default: 1 }),
          per_page: Type.Integer({ minimum: 0, maximum: 10_000, default: 10 }),
          sort_order: StringEnum(['asc', 'desc'] as const, { default: 'asc' }),
        }),
        response: {
          200: Type.Object({
            page: Type.Integer(),
            per_page: Type.Integer(),
            total: Type.Integer(),
            data: Type.Array(AnyRecord()),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { type, id } = request.params;
      const { page, per_page, sort_order } = request.query;
      if (type !== 'action') return { page, per_page, total: 0, data: [] };
      const caller = callerOf(request);
      await client.get(caller, id);
      const found = await events.find({
        savedObjectId: id,
        spaceId: caller.spaceId,
        page,
        perPage: per_page,
        sortOrder: sort_order,
      });
      return { page, per_page, total: found.total, data: found.data };
    },
  );
}
