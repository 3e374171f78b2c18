import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';
import { CoercedNumber, JsonRecord, NullableString, PushComments } from '../lib/case_schemas.js';

/** Most custom fields one push may set. https://www.elastic.co/docs/reference/kibana/connectors-kibana/resilient-action-type */
export const MAX_ADDITIONAL_FIELDS = 50;

export const ConfigSchema = StrictObject({
  apiUrl: Type.String(),
  orgId: Type.String(),
});
export type ResilientConfig = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({
  apiKeyId: Type.String(),
  apiKeySecret: Type.String(),
});
export type ResilientSecrets = Static<typeof SecretsSchema>;

/** The incident keys, which additionalFields may not name. */
export const INCIDENT_KEYS = [
  'name',
  'description',
  'externalId',
  'incidentTypes',
  'severityCode',
  'additionalFields',
] as const;

function additionalFieldsRule(record: Record<string, unknown>): string | undefined {
  const reserved = Object.keys(record).filter((key) =>
    (INCIDENT_KEYS as readonly string[]).includes(key),
  );
  if (reserved.length > 0) {
    return `The following properties cannot be defined inside additionalFields: ${reserved.join(', ')}.`;
  }
  if (Object.keys(record).length > MAX_ADDITIONAL_FIELDS) {
    return `A maximum of ${MAX_ADDITIONAL_FIELDS} fields in additionalFields can be defined at a time.`;
  }
  return undefined;
}

export const PushToServiceParamsSchema = StrictObject(
  {
    incident: StrictObject(
      {
        name: Type.String(),
        description: NullableString(),
        incidentTypes: Nullable(Type.Array(CoercedNumber()), { default: null }),
        severityCode: Nullable(CoercedNumber(), { default: null }),
        additionalFields: Nullable(JsonRecord(additionalFieldsRule), { default: null }),
        externalId: NullableString(),
      },
      { default: {} },
    ),
    comments: PushComments(),
  },
  { default: {} },
);
export type PushToServiceParams = Static<typeof PushToServiceParamsSchema>;

/** getFields, incidentTypes and severity take no parameters. */
export const NoParamsSchema = StrictObject({}, { default: {} });

const ValuesItemSchema = Type.Object(
  {
    value: Type.Union([Type.Number(), Type.String()]),
    label: Type.String(),
    enabled: Type.Boolean(),
    hidden: Type.Boolean(),
    default: Type.Boolean(),
  },
  { additionalProperties: true },
);

export const FieldMetaSchema = Type.Object(
  {
    input_type: Type.String(),
    name: Type.String(),
    read_only: Type.Boolean(),
    required: Type.Optional(Nullable(Type.String())),
    text: Type.String(),
    prefix: Type.Optional(Nullable(Type.String())),
    values: Type.Optional(Nullable(Type.Array(ValuesItemSchema))),
  },
  { additionalProperties: true },
);
export type FieldMeta = Static<typeof FieldMetaSchema>;

export const FieldsResponseSchema = Type.Array(FieldMetaSchema);

export const ValuesResponseSchema = Type.Object(
  {
    values: Type.Array(
      Type.Object({ value: CoercedNumber(), label: Type.String() }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: true },
);

export const IncidentResponseSchema = Type.Object(
  { id: CoercedNumber(), inc_last_modified_date: CoercedNumber() },
  { additionalProperties: true },
);

export const CreatedResponseSchema = Type.Object(
  { id: CoercedNumber(), create_date: CoercedNumber() },
  { additionalProperties: true },
);

export const UpdatedResponseSchema = Type.Object(
  { success: Type.Boolean(), message: Nullable(Type.String(), { default: null }) },
  { additionalProperties: true },
);

export const AnyObjectResponseSchema = Type.Object({}, { additionalProperties: true });
