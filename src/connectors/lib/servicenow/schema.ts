import { type Static, Type } from '@sinclair/typebox';
import { AnyRecord, Nullable, StrictObject } from '../../../schemas/common.js';
import { withCheck } from '../../../schemas/validate.js';
import { extraFieldsRule } from '../extra_fields.js';
import { DEFAULT_ALERTS_GROUPING_KEY } from './config.js';

/** Kibana's cap on `additional_fields` keys: https://www.elastic.co/docs/reference/kibana/connectors-kibana/servicenow-action-type */
export const MAX_ADDITIONAL_FIELDS_LENGTH = 20;

const nullableString = () => Nullable(Type.String(), { default: null });
/** A nullable string defaulting to the alerts grouping key. */
export const groupingKey = () =>
  Type.Union([Type.String(), Type.Null()], { default: DEFAULT_ALERTS_GROUPING_KEY });

export const ConfigBaseProperties = {
  apiUrl: Type.String(),
  isOAuth: Type.Boolean({ default: false }),
  /** Required when isOAuth. */
  userIdentifierValue: nullableString(),
  clientId: nullableString(),
  jwtKeyId: nullableString(),
};

/** ITOM's config. */
export const ConfigBaseSchema = StrictObject(ConfigBaseProperties);

/** ITSM's and SecOps' config: true keeps the legacy Table API, false the Elastic application. */
export const ConfigSchema = StrictObject({
  ...ConfigBaseProperties,
  usesTableApi: Type.Boolean({ default: true }),
});

export const SecretsSchema = StrictObject({
  password: nullableString(),
  username: nullableString(),
  clientSecret: nullableString(),
  privateKey: nullableString(),
  privateKeyPassword: nullableString(),
});

export type ServiceNowBaseConfig = Static<typeof ConfigBaseSchema>;
export type ServiceNowConfig = ServiceNowBaseConfig & { usesTableApi?: boolean };
export type ServiceNowSecrets = Static<typeof SecretsSchema>;

export const COMMON_INCIDENT_PROPERTIES = [
  'short_description',
  'description',
  'externalId',
  'category',
  'subcategory',
  'correlation_id',
  'correlation_display',
  'additional_fields',
] as const;

export const CommonAttributes = {
  short_description: Type.String(),
  description: nullableString(),
  externalId: nullableString(),
  category: nullableString(),
  subcategory: nullableString(),
  correlation_id: groupingKey(),
  correlation_display: nullableString(),
  additional_fields: withCheck(
    Type.Union([AnyRecord(), Type.String(), Type.Null()], { default: null }),
    extraFieldsRule('additional_fields', COMMON_INCIDENT_PROPERTIES, MAX_ADDITIONAL_FIELDS_LENGTH),
  ),
};

export const CommentsSchema = Nullable(
  Type.Array(StrictObject({ comment: Type.String(), commentId: Type.String() })),
  { default: null },
);

export const GetChoicesParamsSchema = StrictObject({ fields: Type.Array(Type.String()) });
export const GetIncidentParamsSchema = StrictObject({ externalId: Type.String() });
export const CloseIncidentParamsSchema = StrictObject({
  incident: StrictObject({
    externalId: nullableString(),
    correlation_id: groupingKey(),
  }),
});
/** Sub-actions without params may leave subActionParams out. */
export const HandshakeParamsSchema = StrictObject({}, { default: {} });
export const GetFieldsParamsSchema = AnyRecord({ default: {} });
