import { urlAllowListValidator } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  AgentFilterSchema,
  CONNECTOR_ID,
  CONNECTOR_NAME,
  type Config,
  ConfigSchema,
  DownloadAgentFileParamsSchema,
  DownloadRemoteScriptResultsParamsSchema,
  ExecuteScriptParamsSchema,
  FetchAgentFilesParamsSchema,
  GetActivitiesParamsSchema,
  GetRemoteScriptResultsParamsSchema,
  GetRemoteScriptStatusParamsSchema,
  GetRemoteScriptsParamsSchema,
  type Secrets,
  SecretsSchema,
  SUB_ACTIONS,
} from './schema.js';
import * as service from './service.js';

type C = Config;
type S = Secrets;

export const sentinelOneConnector = defineSubActionConnector({
  id: CONNECTOR_ID,
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: ['endpointSecurity'],
  subFeature: 'endpointSecurity',
  // Kibana asks the extra sub-actions privilege for every HTTP run but this one.
  readOnlySubActions: ['getAgents'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: {
    config: urlAllowListValidator('url'),
  },
  subActionNames: SUB_ACTIONS,
  subActions: {
    getAgents: subAction<C, S, typeof AgentFilterSchema>(AgentFilterSchema, service.getAgents),
    isolateHost: subAction<C, S, typeof AgentFilterSchema>(AgentFilterSchema, service.isolateHost),
    releaseHost: subAction<C, S, typeof AgentFilterSchema>(AgentFilterSchema, service.releaseHost),
    getRemoteScripts: subAction<C, S, typeof GetRemoteScriptsParamsSchema>(
      GetRemoteScriptsParamsSchema,
      service.getRemoteScripts,
    ),
    executeScript: subAction<C, S, typeof ExecuteScriptParamsSchema>(
      ExecuteScriptParamsSchema,
      service.executeScript,
    ),
    getRemoteScriptStatus: subAction<C, S, typeof GetRemoteScriptStatusParamsSchema>(
      GetRemoteScriptStatusParamsSchema,
      service.getRemoteScriptStatus,
    ),
    getRemoteScriptResults: subAction<C, S, typeof GetRemoteScriptResultsParamsSchema>(
      GetRemoteScriptResultsParamsSchema,
      service.getRemoteScriptResults,
    ),
    downloadRemoteScriptResults: subAction<C, S, typeof DownloadRemoteScriptResultsParamsSchema>(
      DownloadRemoteScriptResultsParamsSchema,
      service.downloadRemoteScriptResults,
    ),
    fetchAgentFiles: subAction<C, S, typeof FetchAgentFilesParamsSchema>(
      FetchAgentFilesParamsSchema,
      service.fetchAgentFiles,
    ),
    downloadAgentFile: subAction<C, S, typeof DownloadAgentFileParamsSchema>(
      DownloadAgentFileParamsSchema,
      service.downloadAgentFile,
    ),
    getActivities: subAction<C, S, typeof GetActivitiesParamsSchema>(
      GetActivitiesParamsSchema,
      service.getActivities,
    ),
  },
});
