import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';
import { NullableString, PushCommentsWithNumericIds } from '../lib/case_schemas.js';

/** How one incident field maps onto a Swimlane application field. */
export const FieldMappingSchema = StrictObject({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  fieldType: Type.String(),
});
export type FieldMapping = Static<typeof FieldMappingSchema>;

const NullableMapping = () => Nullable(FieldMappingSchema, { default: null });

export const MappingsSchema = StrictObject({
  ruleNameConfig: NullableMapping(),
  alertIdConfig: NullableMapping(),
  caseIdConfig: NullableMapping(),
  caseNameConfig: NullableMapping(),
  commentsConfig: NullableMapping(),
  severityConfig: NullableMapping(),
  descriptionConfig: NullableMapping(),
});
export type Mappings = Static<typeof MappingsSchema>;

export const ConfigSchema = StrictObject({
  apiUrl: Type.String(),
  appId: Type.String(),
  connectorType: StringEnum(['all', 'alerts', 'cases'] as const),
  mappings: MappingsSchema,
});
export type SwimlaneConfig = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({ apiToken: Type.String() });
export type SwimlaneSecrets = Static<typeof SecretsSchema>;

export const IncidentSchema = StrictObject({
  alertId: NullableString(),
  ruleName: NullableString(),
  caseId: NullableString(),
  caseName: NullableString(),
  severity: NullableString(),
  description: NullableString(),
  externalId: NullableString(),
});
export type Incident = Static<typeof IncidentSchema>;

export const PushToServiceParamsSchema = StrictObject({
  incident: IncidentSchema,
  comments: PushCommentsWithNumericIds(),
});
export type PushToServiceParams = Static<typeof PushToServiceParamsSchema>;

/** Swimlane has one sub-action; the schema refuses any other name. */
export const ParamsSchema = StrictObject({
  subAction: Type.Literal('pushToService'),
  subActionParams: PushToServiceParamsSchema,
});
export type SwimlaneParams = Static<typeof ParamsSchema>;
export type SubAction = SwimlaneParams['subAction'];
