import { Type } from '@sinclair/typebox';
import { type EmbeddedIndex, indexNotFound } from '../es/embedded.js';
import { AnyRecord, StrictObject } from '../schemas/common.js';
import { errorResponses, type TypedApp } from './common.js';

/**
 * Reading back what the .index connector wrote to the embedded index, in Elasticsearch's
 * `_search` shape (match_all, paged with from/size).
 */
export function embeddedIndexRoutes(app: TypedApp, index: EmbeddedIndex): void {
  app.get(
    '/api/_embedded/:index/_search',
    {
      schema: {
        summary: 'Search the embedded index',
        description:
          'Available when elasticsearch.hosts is not set. Returns documents in the order they were written.',
        tags: ['embedded index'],
        params: StrictObject({ index: Type.String() }),
        querystring: StrictObject({
          from: Type.Integer({ minimum: 0, default: 0 }),
          size: Type.Integer({ minimum: 0, maximum: 10_000, default: 10 }),
        }),
        response: {
          200: Type.Object({
            took: Type.Integer(),
            timed_out: Type.Boolean(),
            _shards: AnyRecord(),
            hits: Type.Object({
              total: Type.Object({ value: Type.Integer(), relation: Type.String() }),
              max_score: Type.Union([Type.Number(), Type.Null()]),
              hits: Type.Array(
                Type.Object({
                  _index: Type.String(),
                  _id: Type.String(),
                  _score: Type.Number(),
                  _source: AnyRecord(),
                }),
              ),
            }),
          }),
          404: Type.Object(
            { error: AnyRecord(), status: Type.Integer() },
            { description: 'No such index.' },
          ),
          ...errorResponses(400, 401),
        },
      },
    },
    async (request, reply) => {
      const { index: name } = request.params;
      if (!(await index.exists(name))) return reply.code(404).send(indexNotFound(name));
      return index.search(name, request.query.from, request.query.size);
    },
  );
}
