import { type TSchema, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';
import { typeName, validate, withCheck } from '../../schemas/validate.js';

/** Opsgenie create-alert limits: https://docs.opsgenie.com/docs/alert-api#create-alert */
export const MESSAGE_MAX_LENGTH = 130;
export const ALIAS_MAX_LENGTH = 512;
/** Kibana accepts longer messages (e.g. after templating) and truncates them to 130. */
export const MESSAGE_SCHEMA_MAX_LENGTH = 15000;

export const ConfigSchema = StrictObject({ apiUrl: Type.String() });
export const SecretsSchema = StrictObject({ apiKey: Type.String() });

/** `took` is coerced to a number by Kibana: anything numeric passes. */
const Took = () =>
  withCheck(Type.Unknown(), (v) =>
    v === null || v === undefined || v === '' || Number.isNaN(Number(v))
      ? `expected value of type [number] but got [${typeName(v)}]`
      : undefined,
  );

const SuccessResponse = Type.Object(
  { took: Took(), requestId: Type.String(), result: Type.String() },
  { additionalProperties: true },
);
const FailureResponse = Type.Object(
  {
    took: Took(),
    requestId: Type.String(),
    message: Type.Optional(Type.String()),
    result: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export const ResponseSchema = Type.Union([SuccessResponse, FailureResponse]);

/** An array item that must match one of `options`, refused with one plain sentence. */
function oneOfWithMessage(options: TSchema[], message: string) {
  const union = Type.Union(options);
  return withCheck(Type.Unknown(), (v) => (validate(union, v).ok ? undefined : message));
}

const RESPONDER_TYPES = ['team', 'user', 'escalation', 'schedule'] as const;

const Responder = oneOfWithMessage(
  [
    StrictObject({ name: Type.String(), type: StringEnum(RESPONDER_TYPES) }),
    StrictObject({ id: Type.String(), type: StringEnum(RESPONDER_TYPES) }),
    StrictObject({ username: Type.String(), type: Type.Literal('user') }),
  ],
  'Each responder must have a "type" (team|user|escalation|schedule) and one of "name", "id", or "username"',
);

const VisibleTo = oneOfWithMessage(
  [
    StrictObject({ name: Type.String(), type: Type.Literal('team') }),
    StrictObject({ id: Type.String(), type: Type.Literal('team') }),
    StrictObject({ id: Type.String(), type: Type.Literal('user') }),
    StrictObject({ username: Type.String(), type: Type.Literal('user') }),
  ],
  'Each visible target must have a "type" (team|user) and one of "name", "id", or "username"',
);

export const CreateAlertParamsSchema = StrictObject({
  message: withCheck(Type.String({ minLength: 1, maxLength: MESSAGE_SCHEMA_MAX_LENGTH }), (v) =>
    typeof v === 'string' && v.trim() === ''
      ? 'must be populated with a value other than just whitespace'
      : undefined,
  ),
  // No limit here: a longer alias is hashed before sending.
  alias: Type.Optional(Type.String()),
  description: Type.Optional(Type.String({ maxLength: 15000 })),
  responders: Type.Optional(Type.Array(Responder, { maxItems: 50 })),
  visibleTo: Type.Optional(Type.Array(VisibleTo, { maxItems: 50 })),
  actions: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 10 })),
  tags: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
  details: Type.Optional(Type.Record(Type.String(), Type.String())),
  entity: Type.Optional(Type.String({ maxLength: 512 })),
  source: Type.Optional(Type.String({ maxLength: 100 })),
  priority: Type.Optional(StringEnum(['P1', 'P2', 'P3', 'P4', 'P5'])),
  user: Type.Optional(Type.String({ maxLength: 100 })),
  note: Type.Optional(Type.String({ maxLength: 25000 })),
});

export const CloseAlertParamsSchema = StrictObject({
  alias: Type.String(),
  user: Type.Optional(Type.String({ maxLength: 100 })),
  source: Type.Optional(Type.String({ maxLength: 100 })),
  note: Type.Optional(Type.String({ maxLength: 25000 })),
});
