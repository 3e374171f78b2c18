import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';

export const CONNECTOR_ID = '.sentinelone';
export const CONNECTOR_NAME = 'Sentinel One';

/** Where the management API (v2.1) lives under the console URL. */
export const API_PATH = '/web/api/v2.1';

export const SUB_ACTIONS = [
  'getAgents',
  'isolateHost',
  'releaseHost',
  'getRemoteScripts',
  'executeScript',
  'getRemoteScriptStatus',
  'getRemoteScriptResults',
  'downloadRemoteScriptResults',
  'fetchAgentFiles',
  'downloadAgentFile',
  'getActivities',
] as const;
export type SubActionName = (typeof SUB_ACTIONS)[number];

export const ConfigSchema = StrictObject({ url: Type.String() });
export type Config = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({ token: Type.String() });
export type Secrets = Static<typeof SecretsSchema>;

const AlertIds = Type.Optional(Type.Array(Type.String()));

/**
 * The agent filters Kibana accepts, named after the query parameters of SentinelOne's
 * `GET /agents`; each is a string (or null), sent as is.
 */
export const AGENT_FILTERS = [
  'K8SNodeName__contains',
  'coreCount__lt',
  'rangerStatuses',
  'adUserQuery__contains',
  'rangerVersionsNin',
  'rangerStatusesNin',
  'coreCount__gte',
  'threatCreatedAt__gte',
  'decommissionedAt__lte',
  'operationalStatesNin',
  'appsVulnerabilityStatusesNin',
  'mitigationMode',
  'createdAt__gte',
  'gatewayIp',
  'cloudImage__contains',
  'registeredAt__between',
  'threatMitigationStatus',
  'installerTypesNin',
  'appsVulnerabilityStatuses',
  'threatResolved',
  'mitigationModeSuspicious',
  'isUpToDate',
  'adComputerQuery__contains',
  'updatedAt__gte',
  'azureResourceGroup__contains',
  'scanStatus',
  'threatContentHash',
  'osTypesNin',
  'threatRebootRequired',
  'totalMemory__between',
  'firewallEnabled',
  'gcpServiceAccount__contains',
  'updatedAt__gt',
  'remoteProfilingStates',
  'filteredGroupIds',
  'agentVersions',
  'activeThreats',
  'machineTypesNin',
  'lastActiveDate__gt',
  'awsSubnetIds__contains',
  'installerTypes',
  'registeredAt__gte',
  'migrationStatus',
  'cloudTags__contains',
  'totalMemory__gte',
  'decommissionedAt__lt',
  'threatCreatedAt__lt',
  'updatedAt__lte',
  'osArch',
  'registeredAt__gt',
  'registeredAt__lt',
  'siteIds',
  'networkInterfaceInet__contains',
  'groupIds',
  'uuids',
  'accountIds',
  'scanStatusesNin',
  'cpuCount__lte',
  'locationIds',
  'awsSecurityGroups__contains',
  'networkStatusesNin',
  'activeThreats__gt',
  'infected',
  'osVersion__contains',
  'machineTypes',
  'agentPodName__contains',
  'computerName__like',
  'threatCreatedAt__gt',
  'consoleMigrationStatusesNin',
  'computerName',
  'decommissionedAt__between',
  'cloudInstanceId__contains',
  'createdAt__lte',
  'coreCount__between',
  'totalMemory__lte',
  'remoteProfilingStatesNin',
  'adComputerMember__contains',
  'threatCreatedAt__between',
  'totalMemory__gt',
  'ids',
  'agentVersionsNin',
  'updatedAt__between',
  'locationEnabled',
  'locationIdsNin',
  'osTypes',
  'encryptedApplications',
  'filterId',
  'decommissionedAt__gt',
  'adUserMember__contains',
  'uuid',
  'coreCount__lte',
  'coreCount__gt',
  'cloudNetwork__contains',
  'clusterName__contains',
  'cpuCount__gte',
  'query',
  'lastActiveDate__between',
  'rangerStatus',
  'domains',
  'cloudProvider',
  'lastActiveDate__lt',
  'scanStatuses',
  'hasLocalConfiguration',
  'networkStatuses',
  'isPendingUninstall',
  'createdAt__gt',
  'cpuCount__lt',
  'consoleMigrationStatuses',
  'adQuery',
  'updatedAt__lt',
  'createdAt__lt',
  'adComputerName__contains',
  'cloudInstanceSize__contains',
  'registeredAt__lte',
  'networkQuarantineEnabled',
  'cloudAccount__contains',
  'cloudLocation__contains',
  'rangerVersions',
  'networkInterfaceGatewayMacAddress__contains',
  'uuid__contains',
  'agentNamespace__contains',
  'K8SNodeLabels__contains',
  'adQuery__contains',
  'K8SType__contains',
  'countsFor',
  'totalMemory__lt',
  'externalId__contains',
  'filteredSiteIds',
  'decommissionedAt__gte',
  'cpuCount__gt',
  'threatHidden',
  'isUninstalled',
  'computerName__contains',
  'lastActiveDate__lte',
  'adUserName__contains',
  'isActive',
  'userActionsNeeded',
  'threatCreatedAt__lte',
  'domainsNin',
  'operationalStates',
  'externalIp__contains',
  'isDecommissioned',
  'networkInterfacePhysical__contains',
  'lastActiveDate__gte',
  'createdAt__between',
  'cpuCount__between',
  'lastLoggedInUserName__contains',
  'awsRole__contains',
  'K8SVersion__contains',
] as const;

const nullableString = () => Nullable(Type.String(), { default: null });

const agentFilterProperties = Object.fromEntries(
  AGENT_FILTERS.map((name) => [name, nullableString()]),
) as Record<(typeof AGENT_FILTERS)[number], ReturnType<typeof nullableString>>;

export const AgentFilterSchema = StrictObject({ ...agentFilterProperties, alertIds: AlertIds });
export type AgentFilter = Static<typeof AgentFilterSchema>;

export const GetRemoteScriptsParamsSchema = StrictObject({
  query: nullableString(),
  osTypes: nullableString(),
  scriptType: nullableString(),
  cursor: nullableString(),
  groupIds: nullableString(),
  ids: nullableString(),
  isAvailableForArs: Nullable(Type.Boolean(), { default: null }),
  limit: Nullable(Type.Number({ minimum: 1, maximum: 1000 }), { default: null }),
  siteIds: nullableString(),
  skip: Nullable(Type.Number(), { default: null }),
  skipCount: Nullable(Type.Boolean(), { default: null }),
  sortBy: nullableString(),
  sortOrder: nullableString(),
});

export const ExecuteScriptParamsSchema = StrictObject({
  filter: StrictObject({
    uuids: Type.Optional(Type.String({ minLength: 1 })),
    ids: Type.Optional(Type.String({ minLength: 1 })),
  }),
  script: StrictObject({
    apiKey: Type.Optional(Type.String()),
    inputParams: Type.Optional(Type.String()),
    outputDirectory: Type.Optional(Type.String()),
    outputDestination: Type.Optional(
      StringEnum(['Local', 'None', 'SentinelCloud', 'SingularityXDR'] as const),
    ),
    passwordFromScope: Type.Optional(
      StrictObject({
        scopeLevel: Type.Optional(Type.String()),
        scopeId: Type.Optional(Type.String()),
      }),
    ),
    password: Type.Optional(Type.String()),
    requiresApproval: Type.Optional(Type.Boolean()),
    scriptId: Type.String(),
    scriptName: Type.Optional(Type.String()),
    scriptRuntimeTimeoutSeconds: Type.Optional(Type.Number()),
    singularityxdrKeyword: Type.Optional(Type.String()),
    singularityxdrUrl: Type.Optional(Type.String()),
    taskDescription: Type.Optional(Type.String()),
  }),
  alertIds: AlertIds,
});

/** Kibana lets other keys through here; only the parent task id is sent. */
export const GetRemoteScriptStatusParamsSchema = Type.Object(
  { parentTaskId: Type.String() },
  { additionalProperties: true },
);

export const GetRemoteScriptResultsParamsSchema = StrictObject({
  taskIds: Type.Array(Type.String()),
});

export const DownloadRemoteScriptResultsParamsSchema = StrictObject({
  taskId: Type.String({ minLength: 1 }),
});

/** Kibana's minimum for the password of the archive the agent uploads. */
export const MIN_ZIP_PASSCODE_LENGTH = 10;

export const FetchAgentFilesParamsSchema = StrictObject({
  agentId: Type.String({ minLength: 1 }),
  zipPassCode: Type.String({ minLength: MIN_ZIP_PASSCODE_LENGTH }),
  files: Type.Array(Type.String({ minLength: 1 })),
});

export const DownloadAgentFileParamsSchema = StrictObject({
  agentId: Type.String({ minLength: 1 }),
  activityId: Type.String({ minLength: 1 }),
});

const optionalText = () => Type.Optional(Type.String({ minLength: 1 }));

export const GetActivitiesParamsSchema = StrictObject({
  accountIds: optionalText(),
  activityTypes: Type.Optional(Type.String()),
  activityUuids: optionalText(),
  agentIds: optionalText(),
  alertIds: optionalText(),
  countOnly: Type.Optional(Type.Boolean()),
  createdAt__between: optionalText(),
  createdAt__gt: optionalText(),
  createdAt__gte: optionalText(),
  createdAt__lt: optionalText(),
  createdAt__lte: optionalText(),
  cursor: optionalText(),
  groupIds: optionalText(),
  ids: optionalText(),
  includeHidden: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Number()),
  ruleIds: optionalText(),
  siteIds: optionalText(),
  skip: Type.Optional(Type.Number()),
  skipCount: Type.Optional(Type.Boolean()),
  sortBy: optionalText(),
  sortOrder: optionalText(),
  threatIds: optionalText(),
  userEmails: optionalText(),
  userIds: optionalText(),
});
