import { ensureUrlAllowed, URL_NOT_ALLOWED } from '../lib/vendor-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  AgentDetailsParamsSchema,
  AgentListParamsSchema,
  CancelParamsSchema,
  CONNECTOR_ID,
  CONNECTOR_NAME,
  type Config,
  ConfigSchema,
  EmptyParamsSchema,
  GetActionResultsParamsSchema,
  GetActionsParamsSchema,
  IsolateHostParamsSchema,
  ReleaseHostParamsSchema,
  RunScriptParamsSchema,
  type Secrets,
  SecretsSchema,
  SUB_ACTIONS,
} from './schema.js';
import * as service from './service.js';

type C = Config;
type S = Secrets;

export const microsoftDefenderEndpointConnector = defineSubActionConnector({
  id: CONNECTOR_ID,
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: ['endpointSecurity'],
  subFeature: 'endpointSecurity',
  // Kibana asks the extra sub-actions privilege for every HTTP run but this one.
  readOnlySubActions: ['testConnector'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: {
    config: (config, env) => {
      ensureUrlAllowed(env, config.oAuthServerUrl, URL_NOT_ALLOWED.validating);
      ensureUrlAllowed(env, config.apiUrl, URL_NOT_ALLOWED.validating);
    },
  },
  subActionNames: SUB_ACTIONS,
  subActions: {
    testConnector: subAction<C, S, typeof EmptyParamsSchema>(EmptyParamsSchema, (ctx) =>
      service.testConnector(ctx),
    ),
    getAgentDetails: subAction<C, S, typeof AgentDetailsParamsSchema>(
      AgentDetailsParamsSchema,
      service.getAgentDetails,
    ),
    getAgentList: subAction<C, S, typeof AgentListParamsSchema>(
      AgentListParamsSchema,
      service.getAgentList,
    ),
    isolateHost: subAction<C, S, typeof IsolateHostParamsSchema>(
      IsolateHostParamsSchema,
      service.isolateHost,
    ),
    releaseHost: subAction<C, S, typeof ReleaseHostParamsSchema>(
      ReleaseHostParamsSchema,
      service.releaseHost,
    ),
    getActions: subAction<C, S, typeof GetActionsParamsSchema>(
      GetActionsParamsSchema,
      service.getActions,
    ),
    getLibraryFiles: subAction<C, S, typeof EmptyParamsSchema>(EmptyParamsSchema, (ctx) =>
      service.getLibraryFiles(ctx),
    ),
    runScript: subAction<C, S, typeof RunScriptParamsSchema>(
      RunScriptParamsSchema,
      service.runScript,
    ),
    getActionResults: subAction<C, S, typeof GetActionResultsParamsSchema>(
      GetActionResultsParamsSchema,
      service.getActionResults,
    ),
    cancelAction: subAction<C, S, typeof CancelParamsSchema>(
      CancelParamsSchema,
      service.cancelAction,
    ),
  },
});
