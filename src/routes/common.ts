import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Kibana's error envelope, for the OpenAPI description of error answers. */
export const ErrorEnvelopeSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: the request was refused (invalid body, missing kbn-xsrf, ...).',
  401: 'Unauthorized: missing or bad credentials.',
  403: 'Forbidden: no privilege, or the connector type is disabled.',
  404: 'Not Found.',
  409: 'Conflict: the id is taken.',
  413: 'Payload Too Large: the body is over server.maxPayload.',
  429: 'Too Many Requests.',
};

export function errorResponses(...codes: number[]) {
  return Object.fromEntries(
    codes.map((code) => [code, { ...ErrorEnvelopeSchema, description: DESCRIPTIONS[code] }]),
  );
}
