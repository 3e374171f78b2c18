import { Type } from '@sinclair/typebox';
import type { Settings } from '../config/settings.js';
import { StrictObject } from '../schemas/common.js';
import type { TypedApp } from './common.js';

/**
 * `GET /api/status`, Kibana's readiness check. Anonymous callers get the redacted answer
 * (overall level only) unless status.allowAnonymous is set; authenticated callers get it all.
 */

const Level = Type.Object({ level: Type.String(), summary: Type.String() });

const FullStatus = Type.Object({
  name: Type.String(),
  uuid: Type.String(),
  version: Type.Object({
    number: Type.String(),
    build_hash: Type.String(),
    build_number: Type.Integer(),
    build_snapshot: Type.Boolean(),
    build_flavor: Type.String(),
    build_date: Type.String(),
  }),
  status: Type.Object({
    overall: Level,
    core: Type.Object({ elasticsearch: Level, savedObjects: Level }),
    plugins: Type.Record(Type.String(), Level),
  }),
  metrics: Type.Object({
    last_updated: Type.String(),
    collection_interval_in_millis: Type.Integer(),
    process: Type.Object({
      pid: Type.Integer(),
      uptime_in_millis: Type.Number(),
      memory: Type.Object({
        heap: Type.Object({ total_in_bytes: Type.Number(), used_in_bytes: Type.Number() }),
        resident_set_size_in_bytes: Type.Number(),
      }),
    }),
  }),
});

const RedactedStatus = Type.Object({
  status: Type.Object({ overall: Type.Object({ level: Type.String() }) }),
});

export interface StatusInfo {
  settings: Settings;
  uuid: string;
  version: string;
  buildHash: string;
  buildDate: string;
}

export function statusRoutes(app: TypedApp, info: StatusInfo): void {
  const allowAnonymous = info.settings['status.allowAnonymous'];
  const embedded = info.settings['elasticsearch.hosts'] === undefined;
  const available = (summary: string) => ({ level: 'available', summary });
  app.get(
    '/api/status',
    {
      config: { auth: 'optional' },
      schema: {
        summary: "Get the server's current status",
        tags: ['system'],
        querystring: StrictObject({
          v7format: Type.Optional(Type.Boolean()),
          v8format: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Type.Union([FullStatus, RedactedStatus]) },
      },
    },
    async (request, reply) => {
      // Serialized here: the two shapes documented above would cost a schema compiler at the
      // first readiness probe, which is when a fresh server is waited on.
      reply.serializer(JSON.stringify);
      if (request.principal === undefined && !allowAnonymous) {
        return { status: { overall: { level: 'available' } } };
      }
      const memory = process.memoryUsage();
      return {
        name: info.settings['server.name'],
        uuid: info.uuid,
        version: {
          number: info.version,
          build_hash: info.buildHash,
          build_number: 1,
          build_snapshot: false,
          build_flavor: 'traditional',
          build_date: info.buildDate,
        },
        status: {
          overall: available('All services and plugins are available'),
          core: {
            elasticsearch: available(
              embedded
                ? 'Using the embedded index (elasticsearch.hosts is not set)'
                : 'Elasticsearch is configured',
            ),
            savedObjects: available(
              'SavedObjects service has completed migrations and is available',
            ),
          },
          plugins: { actions: available('All services are available') },
        },
        metrics: {
          last_updated: new Date().toISOString(),
          collection_interval_in_millis: 5000,
          process: {
            pid: process.pid,
            uptime_in_millis: Math.round(process.uptime() * 1000),
            memory: {
              heap: { total_in_bytes: memory.heapTotal, used_in_bytes: memory.heapUsed },
              resident_set_size_in_bytes: memory.rss,
            },
          },
        },
      };
    },
  );
}
