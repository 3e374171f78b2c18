import { type Static, Type } from '@sinclair/typebox';
import { AnyRecord, NonBlankRecord, NonBlankString, StrictObject } from './common.js';

/** Wire shapes of the connectors API (snake_case, as Kibana's). */

export const ConnectorIdParams = StrictObject({
  id: Type.String({ description: 'An identifier for the connector.' }),
});

export const CreateConnectorBody = StrictObject({
  name: NonBlankString({ description: 'The display name for the connector.' }),
  connector_type_id: NonBlankString({ description: 'The type of connector, such as `.index`.' }),
  config: NonBlankRecord({
    default: {},
    description: 'The connector settings; they depend on the type.',
  }),
  secrets: NonBlankRecord({
    default: {},
    description: 'The secret settings; they are never returned.',
  }),
});
export type CreateConnectorBody = Static<typeof CreateConnectorBody>;

export const UpdateConnectorBody = StrictObject({
  name: NonBlankString({ description: 'The display name for the connector.' }),
  config: NonBlankRecord({ default: {} }),
  secrets: NonBlankRecord({ default: {} }),
});
export type UpdateConnectorBody = Static<typeof UpdateConnectorBody>;

const connectorProperties = {
  id: Type.String(),
  name: Type.String(),
  connector_type_id: Type.String(),
  config: Type.Optional(AnyRecord()),
  is_preconfigured: Type.Boolean(),
  is_system_action: Type.Boolean(),
  is_deprecated: Type.Boolean(),
  is_missing_secrets: Type.Optional(Type.Boolean()),
  is_connector_type_deprecated: Type.Boolean(),
};

export const ConnectorResponse = Type.Object(connectorProperties);

export const ConnectorListResponse = Type.Array(
  Type.Object({ ...connectorProperties, referenced_by_count: Type.Number() }),
);

export const ExecuteBody = StrictObject({
  params: AnyRecord({
    description: 'The parameters of the run; they depend on the connector type.',
  }),
});
export type ExecuteBody = Static<typeof ExecuteBody>;

export const ExecuteResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  connector_id: Type.String(),
  data: Type.Optional(Type.Unknown()),
  message: Type.Optional(Type.String()),
  service_message: Type.Optional(Type.String()),
  retry: Type.Optional(Type.Union([Type.Boolean(), Type.String(), Type.Null()])),
  errorSource: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('framework')])),
});

export const ConnectorTypesQuery = StrictObject({
  feature_id: Type.Optional(
    Type.String({ maxLength: 100, description: 'Keep the types that support this feature.' }),
  ),
});

export const ConnectorTypesResponse = Type.Array(
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    enabled: Type.Boolean(),
    enabled_in_config: Type.Boolean(),
    enabled_in_license: Type.Boolean(),
    minimum_license_required: Type.String(),
    supported_feature_ids: Type.Array(Type.String()),
    is_system_action_type: Type.Boolean(),
    is_deprecated: Type.Boolean(),
    sub_feature: Type.Optional(Type.String()),
  }),
);
