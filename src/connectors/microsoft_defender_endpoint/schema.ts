import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';

export const CONNECTOR_ID = '.microsoft_defender_endpoint';
export const CONNECTOR_NAME = 'Microsoft Defender for Endpoint';

export const SUB_ACTIONS = [
  'testConnector',
  'getAgentDetails',
  'getAgentList',
  'isolateHost',
  'releaseHost',
  'getActions',
  'getLibraryFiles',
  'runScript',
  'getActionResults',
  'cancelAction',
] as const;
export type SubActionName = (typeof SUB_ACTIONS)[number];

const text = () => Type.String({ minLength: 1 });

export const ConfigSchema = StrictObject({
  clientId: text(),
  tenantId: text(),
  oAuthServerUrl: text(),
  oAuthScope: text(),
  apiUrl: text(),
});
export type Config = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({ clientSecret: text() });
export type Secrets = Static<typeof SecretsSchema>;

export const EmptyParamsSchema = StrictObject({});

export const AgentDetailsParamsSchema = StrictObject({ id: text() });
export type AgentDetailsParams = Static<typeof AgentDetailsParamsSchema>;

/** A filter on one field: one value (`eq`) or several (`in`). */
function oneOrMany<T extends TSchema>(item: T) {
  return Type.Optional(Type.Union([item, Type.Array(item, { minItems: 1 })]));
}

const MACHINE_HEALTH_STATUSES = [
  'Active',
  'Inactive',
  'ImpairedCommunication',
  'NoSensorData',
  'NoSensorDataImpairedCommunication',
  'Unknown',
] as const;

const MACHINE_ACTION_TYPES = [
  'RunAntiVirusScan',
  'Offboard',
  'LiveResponse',
  'CollectInvestigationPackage',
  'Isolate',
  'Unisolate',
  'StopAndQuarantineFile',
  'RestrictCodeExecution',
  'UnrestrictCodeExecution',
] as const;

const MACHINE_ACTION_STATUSES = [
  'Pending',
  'InProgress',
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
] as const;

/** Kibana's cap on one page of machines or machine actions. */
export const MAX_PAGE_SIZE = 1000;

const paging = {
  page: Type.Optional(Type.Number({ minimum: 1 })),
  pageSize: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_PAGE_SIZE })),
};

export const AgentListParamsSchema = StrictObject({
  computerDnsName: oneOrMany(text()),
  id: oneOrMany(text()),
  version: oneOrMany(text()),
  deviceValue: oneOrMany(text()),
  aaDeviceId: oneOrMany(text()),
  machineTags: oneOrMany(text()),
  lastSeen: oneOrMany(text()),
  exposureLevel: oneOrMany(text()),
  onboardingStatus: oneOrMany(text()),
  lastIpAddress: oneOrMany(text()),
  healthStatus: oneOrMany(StringEnum(MACHINE_HEALTH_STATUSES)),
  osPlatform: oneOrMany(text()),
  riskScore: oneOrMany(text()),
  rbacGroupId: oneOrMany(text()),
  ...paging,
});
export type AgentListParams = Static<typeof AgentListParamsSchema>;

export const IsolateHostParamsSchema = StrictObject({ id: text(), comment: text() });
export type IsolateHostParams = Static<typeof IsolateHostParamsSchema>;

export const ReleaseHostParamsSchema = IsolateHostParamsSchema;

export const GetActionsParamsSchema = StrictObject({
  id: oneOrMany(text()),
  status: oneOrMany(StringEnum(MACHINE_ACTION_STATUSES)),
  machineId: oneOrMany(text()),
  type: oneOrMany(StringEnum(MACHINE_ACTION_TYPES)),
  requestor: oneOrMany(text()),
  creationDateTimeUtc: oneOrMany(text()),
  ...paging,
  sortField: Type.Optional(text()),
  sortDirection: Type.Optional(StringEnum(['asc', 'desc'] as const)),
});
export type GetActionsParams = Static<typeof GetActionsParamsSchema>;

export const GetActionResultsParamsSchema = StrictObject({ id: text() });
export type GetActionResultsParams = Static<typeof GetActionResultsParamsSchema>;

export const RunScriptParamsSchema = StrictObject({
  id: text(),
  comment: Type.Optional(text()),
  parameters: StrictObject({
    scriptName: text(),
    args: Type.Optional(text()),
  }),
});
export type RunScriptParams = Static<typeof RunScriptParamsSchema>;

export const CancelParamsSchema = StrictObject({ comment: text(), actionId: text() });
export type CancelParams = Static<typeof CancelParamsSchema>;
