import { Type } from '@sinclair/typebox';
import { StrictObject } from '../../schemas/common.js';
import { typeName, withCheck } from '../../schemas/validate.js';

/** Most results Tines returns in one page: https://www.tines.com/api/actions/list */
export const API_MAX_RESULTS = 500;

export const ConfigSchema = StrictObject({ url: Type.String() });
export const SecretsSchema = StrictObject({ email: Type.String(), token: Type.String() });

/** A number, or text of one (Kibana coerces it). */
const CoercedNumber = () =>
  withCheck(Type.Unknown(), (v) =>
    (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
      ? undefined
      : `expected value of type [number] but got [${typeName(v)}]`,
  );

export const WebhooksParamsSchema = StrictObject({ storyId: CoercedNumber() });

/** A webhook as the `webhooks` sub action lists it; other keys are ignored. */
const WebhookObjectSchema = Type.Object(
  { id: CoercedNumber(), name: Type.String(), storyId: CoercedNumber() },
  { additionalProperties: true },
);

export const RunParamsSchema = StrictObject({
  webhook: Type.Optional(WebhookObjectSchema),
  webhookUrl: Type.Optional(Type.String()),
  body: Type.String(),
});

const Meta = Type.Object({ pages: Type.Number() }, { additionalProperties: true });

export const StoriesResponseSchema = Type.Object(
  {
    meta: Meta,
    stories: Type.Array(
      Type.Object(
        { id: Type.Number(), name: Type.String(), published: Type.Boolean() },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

const AgentSchema = Type.Object(
  {
    id: Type.Number(),
    name: Type.String(),
    type: Type.String(),
    story_id: Type.Number(),
    options: Type.Object(
      { path: Type.Optional(Type.String()), secret: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

export const AgentsResponseSchema = Type.Object(
  { meta: Meta, agents: Type.Array(AgentSchema) },
  { additionalProperties: true },
);

export const ActionResponseSchema = AgentSchema;

export const RunResponseSchema = Type.Object({}, { additionalProperties: true });
